"""Trial tests for the book's example programs.  Run them with: cd code && trial tests"""
