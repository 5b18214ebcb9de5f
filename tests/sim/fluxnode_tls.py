"""A self-signed certificate like the one FluxOS serves on its HTTPS port (API port + 1):
`CN=self.api.runonflux.io, O=RunOnFlux`, so tests can show that verification fails by default and
works only with the client's explicit verify_tls=False."""

from __future__ import annotations

import datetime
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed_context() -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self.api.runonflux.io"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "RunOnFlux")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    folder = Path(tempfile.mkdtemp(prefix="fluxnode-tls-"))
    (folder / "v1.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "v1.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                      serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "v1.crt", folder / "v1.key")
    return context
