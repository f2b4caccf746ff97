# Twisted Poetry: build the book, run its examples, check everything.
# `make help` lists the targets.  Every target sets up .venv from
# requirements.txt first, and again whenever requirements.txt changes.

SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SPHINX := $(BIN)/sphinx-build
# Sources in book/, conf.py at the root, every format under _build/.
SPHINXOPTS ?= -W --keep-going -n -q
BUILD  = $(SPHINX) -M $(1) book _build -c . $(SPHINXOPTS)

.DEFAULT_GOAL := help
.PHONY: help html doctest test spelling serve try pdf epub publish browser-test bench clean

help:  ## List the targets
	@echo "make <target>, where <target> is one of:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' \
		| awk -F'\t' '{ printf "  %-14s%s\n", $$1, $$2 }'

# axe-core, the browser test's accessibility engine, from the npm registry.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@tools/need node
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Twisted Poetry needs Python 3.11 or newer; set PYTHON=python3.x")'
	@echo "Setting up $(VENV) from requirements.txt"
	@rm -rf $(VENV)
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

html: $(STAMP)  ## Build the HTML book in _build/html
	@tools/need html
	$(call BUILD,html)
	@echo "The book is in _build/html/index.html"

doctest: $(STAMP)  ## Run every example the book shows (or one chapter's: CHAPTER=10)
	@tools/need test
	$(BIN)/python tools/run_doctests.py $(CHAPTER)

spelling: $(STAMP)  ## Check the spelling of the prose
	@tools/need test
	$(call BUILD,spelling)

test: $(STAMP) $(NODE_STAMP)  ## Run every check: build, doctests, trial tests, spelling, ruff, browser
	@tools/need test
	@$(BIN)/python tools/check.py

serve: $(STAMP)  ## Serve the book on http://127.0.0.1:8000, rebuilt on every change
	@tools/need html
	$(BIN)/sphinx-autobuild book _build/html -c . --watch code --host 127.0.0.1 --port 8000

try: $(STAMP)  ## Run a chapter's example with its servers: make try CHAPTER=2
	@$(BIN)/python tools/try_example.py $(CHAPTER)

pdf: $(STAMP)  ## Build the PDF book (xelatex) in _build/latex
	@tools/need pdf
	@mkdir -p _build
	$(call BUILD,latexpdf) > _build/latexpdf.log 2>&1 || { tail -n 40 _build/latexpdf.log; exit 1; }
	@echo "The book is in _build/latex/twisted-poetry.pdf"

epub: $(STAMP)  ## Build the EPUB book in _build/epub
	@tools/need html
	$(call BUILD,epub)
	@echo "The book is in _build/epub/TwistedPoetry.epub"

publish: $(STAMP)  ## Build the book to publish: every example run first, then PDF, EPUB, HTML
	@tools/need pdf
	$(BIN)/python tools/run_doctests.py
	@$(MAKE) --no-print-directory pdf epub
	@rm -rf _build/extra && mkdir -p _build/extra/downloads
	cp _build/latex/twisted-poetry.pdf _build/epub/TwistedPoetry.epub _build/extra/downloads/
	$(call BUILD,html)
	@echo "Ready to publish: _build/html, with the PDF and the EPUB in _build/html/downloads"

browser-test: html $(NODE_STAMP)  ## Open every page of the HTML book in headless Chromium and check it
	@tools/need browser
	@$(BIN)/python tools/browser_test.py

bench: $(STAMP)  ## Measure chapters 19 and 26's clients and servers (about 5 min); rewrites book/_static/bench
	$(BIN)/python code/bench/run.py

clean:  ## Remove _build and .venv
	rm -rf _build $(VENV)
