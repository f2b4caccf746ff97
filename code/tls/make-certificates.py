"""Make a certificate authority, and a certificate it signs for a poetry server.

It writes two files into DIR:

  ca.pem      the authority's certificate: what a client trusts (--ca)
  server.pem  the server's certificate and its private key (--certificate)

The server's certificate names localhost and 127.0.0.1, unless --name
says otherwise.  The authority's own private key is used once, to sign,
and then forgotten: nobody, not even you, can sign another certificate
with it.  Every run makes new keys, so nothing secret ever needs to be
kept in the repository.

    python code/tls/make-certificates.py /tmp/poetry-tls
    python code/tls/make-certificates.py --name poetry.example /tmp/elsewhere-tls
"""

import argparse
import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def subject_name(text: str) -> x509.GeneralName:
    """A name for the certificate: an IP address if it is one, else a DNS name."""
    try:
        return x509.IPAddress(ipaddress.ip_address(text))
    except ValueError:
        return x509.DNSName(text)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="where to write the files")
    parser.add_argument("--name", dest="names", metavar="NAME", action="append",
                        type=subject_name,
                        help="a host name or IP address the server's certificate "
                             "is for; repeat it for several "
                             "(default: localhost and 127.0.0.1)")
    return parser.parse_args()


def certificate(subject: str, public_key: ec.EllipticCurvePublicKey,
                issuer: str, signing_key: ec.EllipticCurvePrivateKey,
                extensions: list[tuple[x509.ExtensionType, bool]]) -> x509.Certificate:
    """A certificate that says: subject's key is public_key.  Signed by issuer."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # a clock a bit slow
        .not_valid_after(now + datetime.timedelta(days=30))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def main() -> None:
    args = parse_args()
    names = args.names or [x509.DNSName("localhost"),
                           x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]

    # The authority: a key pair, and a certificate it signs for itself.
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = "Twisted Poetry example CA"
    ca = certificate(ca_name, ca_key.public_key(), ca_name, ca_key, [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.KeyUsage(digital_signature=False, content_commitment=False,
                       key_encipherment=False, data_encipherment=False,
                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                       encipher_only=False, decipher_only=False), True),
        (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
    ])

    # The server: a key pair of its own, and a certificate the authority signs.
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = certificate("poetry server", server_key.public_key(), ca_name, ca_key, [
        (x509.SubjectAlternativeName(names), False),  # what a client checks
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
         False),
    ])

    try:
        args.directory.mkdir(parents=True, exist_ok=True)
        (args.directory / "ca.pem").write_bytes(
            ca.public_bytes(serialization.Encoding.PEM))
        server_file = args.directory / "server.pem"
        server_file.touch(mode=0o600)  # a private key: for the owner's eyes only
        server_file.chmod(0o600)
        server_file.write_bytes(
            server.public_bytes(serialization.Encoding.PEM)
            + server_key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    except OSError as error:
        sys.exit(f"Cannot write the certificates: {error}")
    shown = ", ".join(str(name.value) for name in names)
    print(f"Wrote {args.directory / 'ca.pem'} and {server_file} (for {shown}).")


if __name__ == "__main__":
    main()
