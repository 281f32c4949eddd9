"""The server's TLS identity: a generated self-signed certificate, or the operator's own."""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tenantry.errors import KeyMaterialError

__all__ = ["check_pair", "ensure_self_signed", "self_signed_paths"]


def self_signed_paths(home: Path) -> tuple[Path, Path]:
    """Where the generated certificate and key live."""
    return home / "tls" / "server.crt", home / "tls" / "server.key"


def ensure_self_signed(home: Path, hosts: list[str]) -> tuple[Path, Path]:
    """The generated certificate and key under ``home`` (created on first use, key 0600).

    The certificate names every host given (and localhost) so clients can verify it by
    pinning the file; an operator replaces it with ``--cert``/``--key``.
    """
    cert_path, key_path = self_signed_paths(home)
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    cert_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for host in {*hosts, "127.0.0.1", "::1"}:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tenantry API")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_bytes)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def check_pair(cert: Path, key: Path) -> None:
    """Raise KeyMaterialError unless both files exist and hold PEM material."""
    for path in (cert, key):
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise KeyMaterialError(f"cannot read {path}: {exc.strerror}") from exc
        if b"-----BEGIN" not in text:
            raise KeyMaterialError(f"{path} is not a PEM file")
