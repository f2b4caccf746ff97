"""Chapter 24: poetry over TLS, certificates made at run time, and solutions.

The certificate authorities are made at run time, in temporary folders,
with code/tls/make-certificates.py: no key is ever read from the
repository.  Tests that only need some certificate share one set; a test
about what the certificates say, or that needs a second authority,
makes its own.
"""

import atexit
import re
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtensionOID
from twisted.trial import unittest

from tests.programs import (
    POEMS,
    Program,
    listener,
    refused_port,
    run,
    wait_for_the_reactor,
)

MAKE = "tls/make-certificates.py"
SERVER = "tls/fastpoetry.py"
CLIENT = "tls/get-poetry.py"
PLAIN_SERVER = "async-await/fastpoetry.py"
PLAIN_CLIENT = "async-await/get-poetry.py"
MUTUAL = "solutions/ch24-client-certificates/"
BOTH = "solutions/ch24-two-ports/fastpoetry.py"
SCIENCE = "code/poetry/science.txt"


def folder(test) -> Path:
    """A fresh temporary folder for one test, removed after it."""
    path = Path(tempfile.mkdtemp(prefix="ch24-"))
    test.addCleanup(shutil.rmtree, path, ignore_errors=True)
    return path


def make(path: Path, *names: str, program: str = MAKE) -> Path:
    """Make a CA and a server certificate (for names, if given) in path; return it."""
    options = [option for name in names for option in ("--name", name)]
    status, out, err = run(program, *options, str(path))
    assert (status, err) == (0, ""), err
    return path


def certificates(test, *names: str, program: str = MAKE) -> Path:
    """Make a CA and a server certificate for one test; return their folder."""
    return make(folder(test), *names, program=program)


_shared: list[Path] = []


def shared_certificates() -> Path:
    """One CA and server certificate for every test that only needs them to exist.

    Made at the first call (making them takes a process of its own), and
    removed when the test run ends.
    """
    if not _shared:
        path = Path(tempfile.mkdtemp(prefix="ch24-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _shared.append(make(path))
    return _shared[0]


class SharedCertificates(unittest.TestCase):
    """Tests that use the shared certificates, as self.shared."""

    def setUp(self):
        self.shared = shared_certificates()


def serve(test, program: str, *args: str) -> tuple[Program, int]:
    """Start a server for one test (stopped after it); return it and its port."""
    server = Program(program, *args, SCIENCE)
    test.addCleanup(server.end)
    return server, server.port()


def fetch(ca: Path, *addresses: str | int) -> tuple[int, str, str]:
    """Run the TLS client with ca as its trust root; return (status, out, err)."""
    return run(CLIENT, "--ca", str(ca / "ca.pem"), *map(str, addresses))


def one_failure(test, err: str, address: str, reason: str) -> None:
    """The client said, in one line, that it got no poem from address, and why."""
    test.assertNotIn("Traceback", err)
    lines = err.splitlines()
    test.assertEqual(lines[0], f"Task 1: cannot get poetry from {address}: {reason}")
    test.assertRegex(lines[1], r"^Got 0 of 1 poems in \d+\.\d seconds\.$")
    test.assertEqual(len(lines), 2, err)


class MakeCertificatesTests(unittest.TestCase):
    def test_files(self):
        """ca.pem holds a CA's certificate only; server.pem a certificate and a key."""
        path = certificates(self)
        ca_pem = (path / "ca.pem").read_bytes()
        server_pem = (path / "server.pem").read_bytes()
        self.assertNotIn(b"PRIVATE KEY", ca_pem)
        self.assertIn(b"PRIVATE KEY", server_pem)
        self.assertEqual(stat.S_IMODE((path / "server.pem").stat().st_mode), 0o600)
        ca = x509.load_pem_x509_certificate(ca_pem)
        server = x509.load_pem_x509_certificate(server_pem)
        server.verify_directly_issued_by(ca)  # raises if the CA did not sign it
        self.assertTrue(ca.extensions.get_extension_for_class(
            x509.BasicConstraints).value.ca)
        self.assertFalse(server.extensions.get_extension_for_class(
            x509.BasicConstraints).value.ca)
        names = server.extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        self.assertEqual([str(name.value) for name in names], ["localhost", "127.0.0.1"])

    def test_names(self):
        """--name replaces the default names; an IP address becomes an IP name."""
        path = certificates(self, "poetry.example", "10.1.2.3")
        server = x509.load_pem_x509_certificate((path / "server.pem").read_bytes())
        names = server.extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        self.assertEqual(names.get_values_for_type(x509.DNSName), ["poetry.example"])
        self.assertEqual([str(ip) for ip in names.get_values_for_type(x509.IPAddress)],
                         ["10.1.2.3"])

    def test_new_keys_every_run(self):
        one, two = certificates(self), certificates(self)
        self.assertNotEqual((one / "server.pem").read_bytes(),
                            (two / "server.pem").read_bytes())

    def test_output(self):
        path = folder(self)
        self.assertEqual(run(MAKE, str(path)), (
            0, f"Wrote {path}/ca.pem and {path}/server.pem (for localhost, 127.0.0.1).\n",
            ""))

    def test_cannot_write(self):
        path = folder(self) / "a-file"
        path.write_text("")
        status, out, err = run(MAKE, str(path / "inside"))
        self.assertEqual((status, out), (1, ""))
        self.assertTrue(err.startswith("Cannot write the certificates: "), err)
        self.assertEqual(len(err.splitlines()), 1, err)

    def test_no_key_in_the_repository(self):
        """Nothing under code/ holds a private key: they are all made at run time."""
        code = Path(__file__).resolve().parents[1]
        for path in code.rglob("*.pem"):
            self.assertNotIn(b"PRIVATE KEY", path.read_bytes(), path)


class TLSPoetryTests(SharedCertificates):
    def setUp(self):
        super().setUp()
        self.ca = self.shared
        self.server, self.port = serve(self, SERVER, "--certificate",
                                       str(self.ca / "server.pem"))

    def assert_still_serving(self):
        """A trusting client still gets the poem: the server goes on serving."""
        status, out, err = fetch(self.ca, self.port)
        self.assertEqual((status, out), (0, POEMS["science"].decode()), err)

    def test_poem(self):
        """By IP address and by name: the certificate names both."""
        status, out, err = fetch(self.ca, self.port, f"localhost:{self.port}")
        self.assertEqual((status, out), (0, "\n".join([POEMS["science"].decode()] * 2)), err)
        self.assertIn(f"Task 1: got 673 bytes of poetry from 127.0.0.1:{self.port}\n", err)
        self.assertIn(f"Task 2: got 673 bytes of poetry from localhost:{self.port}\n", err)

    def test_server_log(self):
        fetch(self.ca, self.port)
        self.assertEqual(self.server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertEqual(self.server.readline(), "Connection 1: sent 673 bytes.\n")

    def test_untrusted_server(self):
        """A client given another CA refuses the server, in one line, with no poem."""
        stranger = certificates(self)
        status, out, err = fetch(stranger, self.port)
        self.assertEqual((status, out), (1, ""))
        one_failure(self, err, f"127.0.0.1:{self.port}",
                    "TLS failed: certificate verify failed")
        self.assertEqual(self.server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertEqual(self.server.readline(), "Connection 1: lost: "
                         "[('SSL routines', '', 'tlsv1 alert unknown ca')]\n")
        self.assert_still_serving()

    def test_plain_client(self):
        """A client that does not speak TLS hears nothing, and gives up; no hang."""
        status, out, err = run(PLAIN_CLIENT, "--timeout", "0.5", str(self.port))
        self.assertEqual((status, out), (1, ""))
        one_failure(self, err, f"127.0.0.1:{self.port}",
                    "the server said nothing for 0.5 seconds")
        self.assert_still_serving()

    def test_garbage(self):
        """Bytes that are not TLS: the server hangs up and goes on serving."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")  # OpenSSL knows this one
            self.assertEqual(sock.recv(1024), b"")  # closed, without a poem
        self.server.readline()
        self.assertEqual(self.server.readline(),
                         "Connection 1: lost: [('SSL routines', '', 'http request')]\n")
        self.assert_still_serving()

    def test_openssl_s_client(self):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is not installed")
        result = subprocess.run(
            ["openssl", "s_client", "-brief", "-connect", f"127.0.0.1:{self.port}",
             "-CAfile", str(self.ca / "ca.pem"), "-servername", "localhost",
             "-verify_hostname", "localhost", "-ign_eof"],  # read on to the end
            stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stdout, POEMS["science"])
        self.assertIn(b"Verification: OK\n", result.stderr)
        self.assertIn(b"Verified peername: localhost\n", result.stderr)

    def test_ctrl_c(self):
        wait_for_the_reactor(self.server)
        self.assertEqual(self.server.stop(), (0, "", ""))


class WrongNameTests(unittest.TestCase):
    def test_another_host(self):
        """A certificate the CA signed, but for another name: refused, no poem."""
        ca = certificates(self, "poetry.example")
        server, port = serve(self, SERVER, "--certificate", str(ca / "server.pem"))
        for address in (str(port), f"localhost:{port}"):
            status, out, err = fetch(ca, address)
            self.assertEqual((status, out), (1, ""))
            host = "127.0.0.1:" if ":" not in address else ""
            one_failure(self, err, host + address,
                        "TLS failed: certificate for another host")

    def test_another_address(self):
        """A certificate for localhost only does not do for 127.0.0.1."""
        ca = certificates(self, "localhost")
        server, port = serve(self, SERVER, "--certificate", str(ca / "server.pem"))
        self.assertEqual(fetch(ca, f"localhost:{port}")[0], 0)
        status, out, err = fetch(ca, port)
        self.assertEqual((status, out), (1, ""))
        one_failure(self, err, f"127.0.0.1:{port}",
                    "TLS failed: certificate for another host")


class ClientTests(SharedCertificates):
    def test_plain_server(self):
        """A TLS client against a server that does not speak TLS: one line, no poem."""
        ca = self.shared
        server, port = serve(self, PLAIN_SERVER)
        status, out, err = fetch(ca, port)
        self.assertEqual((status, out), (1, ""))
        one_failure(self, err, f"127.0.0.1:{port}", "TLS failed: wrong version number")
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1.\n")
        # The plain server sees nothing wrong: it sent the poem, in the clear.
        self.assertEqual(server.readline(), "Connection 1: sent 673 bytes.\n")

    def test_refused(self):
        ca = self.shared
        port = refused_port(self)
        status, out, err = fetch(ca, port)
        self.assertEqual((status, out), (1, ""))
        one_failure(self, err, f"127.0.0.1:{port}", "Connection refused")

    def test_silent_server(self):
        """A server that accepts and says nothing, not even a TLS handshake."""
        ca = self.shared
        sock, port = listener(self)
        status, out, err = run(CLIENT, "--ca", str(ca / "ca.pem"), "--timeout", "0.5",
                               str(port))
        self.assertEqual((status, out), (1, ""))
        one_failure(self, err, f"127.0.0.1:{port}",
                    "the server said nothing for 0.5 seconds")

    def test_ctrl_c(self):
        ca = self.shared
        sock, port = listener(self)
        client = Program(CLIENT, "--ca", str(ca / "ca.pem"), str(port))
        self.addCleanup(client.end)
        wait_for_the_reactor(client)
        self.assertEqual(client.stop(), (130, "", ""))

    def test_missing_ca(self):
        status, out, err = run(CLIENT, "--ca", "/nonexistent/ca.pem", "10001")
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, "Cannot read the certificate authority: [Errno 2] "
                              "No such file or directory: '/nonexistent/ca.pem'\n")

    def test_not_a_certificate(self):
        path = folder(self) / "ca.pem"
        path.write_text("not a certificate\n")
        self.assertEqual(run(CLIENT, "--ca", str(path), "10001"), (
            1, "", f"Cannot use {path}: it holds no certificate in PEM format\n"))

    def test_arguments(self):
        """No --ca, or an impossible address: argparse's error, exit status 2."""
        for args in (["10001"], ["--ca", "ca.pem", "70000"], ["--ca", "ca.pem"]):
            status, out, err = run(CLIENT, *args)
            self.assertEqual((status, out), (2, ""), args)
            self.assertIn("error:", err)


class ServerArgumentTests(SharedCertificates):
    def test_missing_certificate(self):
        status, out, err = run(SERVER, "--certificate", "/nonexistent.pem", SCIENCE)
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, "Cannot read the certificate: [Errno 2] "
                              "No such file or directory: '/nonexistent.pem'\n")

    def test_no_key(self):
        """ca.pem has a certificate but no key: the server cannot use it."""
        ca = self.shared
        status, out, err = run(SERVER, "--certificate", str(ca / "ca.pem"), SCIENCE)
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, f"Cannot use {ca}/ca.pem: "
                              "no certificate and key in PEM in it\n")

    def test_arguments(self):
        for args in ([SCIENCE], ["--certificate", "x.pem", "--port", "70000", SCIENCE]):
            status, out, err = run(SERVER, *args)
            self.assertEqual((status, out), (2, ""), args)
            self.assertIn("error:", err)

    def test_port_taken(self):
        ca = self.shared
        sock, port = listener(self)
        status, out, err = run(SERVER, "--certificate", str(ca / "server.pem"),
                               "--port", str(port), SCIENCE)
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, f"Cannot listen on 127.0.0.1:{port}: "
                              "Address already in use\n")




class ClientCertificateSolutionTests(unittest.TestCase):
    """Exercise 1: the server asks every client for a certificate its CA signed."""

    def setUp(self):
        self.path = certificates(self, program=MUTUAL + "make-certificates.py")
        self.server, self.port = serve(
            self, MUTUAL + "fastpoetry.py", "--certificate", str(self.path / "server.pem"),
            "--ca", str(self.path / "ca.pem"))

    def fetch(self, *options: str) -> tuple[int, str, str]:
        return run(MUTUAL + "get-poetry.py", "--ca", str(self.path / "ca.pem"),
                   *options, str(self.port))

    def test_files(self):
        client_pem = (self.path / "client.pem").read_bytes()
        self.assertIn(b"PRIVATE KEY", client_pem)
        self.assertEqual(stat.S_IMODE((self.path / "client.pem").stat().st_mode), 0o600)
        ca = x509.load_pem_x509_certificate((self.path / "ca.pem").read_bytes())
        x509.load_pem_x509_certificate(client_pem).verify_directly_issued_by(ca)

    def test_with_certificate(self):
        status, out, err = self.fetch("--certificate", str(self.path / "client.pem"))
        self.assertEqual((status, out), (0, POEMS["science"].decode()), err)
        self.assertEqual(self.server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertEqual(self.server.readline(), "Connection 1: sent 673 bytes.\n")

    def test_without_certificate(self):
        """No certificate: the server refuses; so it does the chapter's client."""
        for status, out, err in (self.fetch(),
                                 run(CLIENT, "--ca", str(self.path / "ca.pem"),
                                     str(self.port))):
            self.assertEqual((status, out), (1, ""))
            one_failure(self, err, f"127.0.0.1:{self.port}",
                        "TLS failed: tlsv13 alert certificate required")
        for number in (1, 2):
            self.assertEqual(self.server.readline(), f"Connection {number} from 127.0.0.1.\n")
            self.assertEqual(self.server.readline(), f"Connection {number}: lost: "
                             "[('SSL routines', '', 'peer did not return a certificate')]\n")

    def test_stranger_certificate(self):
        """A certificate from another CA: the server does not trust it."""
        stranger = certificates(self, program=MUTUAL + "make-certificates.py")
        status, out, err = self.fetch("--certificate", str(stranger / "client.pem"))
        self.assertEqual((status, out), (1, ""))
        one_failure(self, err, f"127.0.0.1:{self.port}",
                    "TLS failed: tlsv1 alert unknown ca")
        status, out, err = self.fetch("--certificate", str(self.path / "client.pem"))
        self.assertEqual((status, out), (0, POEMS["science"].decode()), err)

    def test_ctrl_c(self):
        wait_for_the_reactor(self.server)
        self.assertEqual(self.server.stop(), (0, "", ""))

    def test_arguments(self):
        status, out, err = run(MUTUAL + "fastpoetry.py", "--certificate", "x.pem", SCIENCE)
        self.assertEqual((status, out), (2, ""))
        self.assertIn("--ca", err)
        status, out, err = self.fetch("--certificate", "/nonexistent.pem")
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, "Cannot read the client's certificate: [Errno 2] "
                              "No such file or directory: '/nonexistent.pem'\n")


class TwoPortsSolutionTests(unittest.TestCase):
    """Exercise 2: one server, one factory, a plain port and a TLS port."""

    def test_both(self):
        ca = certificates(self)
        server = Program(BOTH, "--certificate", str(ca / "server.pem"), SCIENCE)
        self.addCleanup(server.end)
        first = server.first_line()
        match = re.fullmatch(rf"Serving {SCIENCE} on 127\.0\.0\.1:(\d+) \(TCP\)"
                             r" and 127\.0\.0\.1:(\d+) \(TLS\)\.\n", first)
        self.assertTrue(match, first)
        plain, tls = map(int, match.groups())
        with socket.create_connection(("127.0.0.1", plain), timeout=10) as sock:
            received = b""
            while data := sock.recv(4096):
                received += data
        self.assertEqual(received, POEMS["science"])
        status, out, err = fetch(ca, tls)
        self.assertEqual((status, out), (0, POEMS["science"].decode()), err)
        status, out, err = fetch(ca, plain)  # TLS on the plain port: refused
        self.assertEqual((status, out), (1, ""))
        one_failure(self, err, f"127.0.0.1:{plain}", "TLS failed: wrong version number")
        for number in (1, 2):  # one count for both ports
            self.assertEqual(server.readline(), f"Connection {number} from 127.0.0.1.\n")
            self.assertEqual(server.readline(), f"Connection {number}: sent 673 bytes.\n")
        wait_for_the_reactor(server)
        status, out, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out, "Connection 3 from 127.0.0.1.\nConnection 3: sent 673 bytes.\n")

    def test_port_taken(self):
        ca = certificates(self)
        sock, port = listener(self)
        status, out, err = run(BOTH, "--certificate", str(ca / "server.pem"),
                               "--tls-port", str(port), SCIENCE)
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, f"Cannot listen on 127.0.0.1:{port}: "
                              "Address already in use\n")

    def test_arguments(self):
        status, out, err = run(BOTH, "--certificate", "x.pem", "--tls-port", "-1",
                               SCIENCE)
        self.assertEqual((status, out), (2, ""))
        self.assertIn("--tls-port", err)
