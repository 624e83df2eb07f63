"""Certificate files for nginx: the platform's self-signed fallback and the ones attached to domains."""
import os
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEFAULT_NAME = "Pier default certificate"


def self_signed():
    """(certificate PEM, key PEM) for hosts without a certificate of their own."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEFAULT_NAME)])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=3650)).sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def write_files(runtime, certificates):
    """Writes <runtime>/certs/<name>.crt and .key (keys readable by root only), creating the default
    certificate once. Returns True when any file changed."""
    folder = os.path.join(runtime, "certs")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    wanted = dict(certificates)
    if not os.path.exists(os.path.join(folder, "default.crt")):
        wanted["default"] = self_signed()
    changed = False
    for name, (certificate, key) in wanted.items():
        for suffix, text in (("crt", certificate), ("key", key)):
            path = os.path.join(folder, f"{name}.{suffix}")
            try:
                with open(path) as f:
                    if f.read() == text:
                        continue
            except FileNotFoundError:
                pass
            temporary = path + ".new"
            with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(text)
            os.replace(temporary, path)
            changed = True
    return changed
