"""Certificate files for nginx: the platform's self-signed fallback and the tenants' ones attached to domains.

    <runtime>/certs/platform/default.crt, .key   the platform's, made once
    <runtime>/certs/tenants/<name>.crt, .key     each tenant certificate attached to some domain

Tenants' files live in a folder of their own, so no certificate name can ever reach the platform's files.
"""
import os
import re
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEFAULT_NAME = "Pier default certificate"
SUFFIXES = ("crt", "key")
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # as uploads check it: never a path


def platform_folder(runtime):
    return os.path.join(runtime, "certs", "platform")


def tenant_folder(runtime):
    return os.path.join(runtime, "certs", "tenants")


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


def _write(path, text):
    """Writes `text` to `path` (root only) unless it is there already; True when it wrote."""
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    temporary = path + ".new"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    os.replace(temporary, path)
    return True


def _remove_files(folder, keep=()):
    """Removes the files in `folder` not named in `keep`: a private key never outlives its attachment."""
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry not in keep and os.path.isfile(path):
            os.remove(path)


def write_files(runtime, certificates):
    """certificates: {name: (certificate PEM, key PEM)} of the tenant certificates attached to some domain.
    Writes them, removes the files of all others (detached or deleted), and makes the platform's certificate
    once. Returns True when a file nginx reads changed."""
    folder, platform, tenants = os.path.join(runtime, "certs"), platform_folder(runtime), tenant_folder(runtime)
    for path in (folder, platform, tenants):
        os.makedirs(path, mode=0o700, exist_ok=True)
    # files of the layout before tenants had a folder of their own, where a tenant's `default` was the platform's
    _remove_files(folder)
    changed = False
    if not all(os.path.exists(os.path.join(platform, f"default.{suffix}")) for suffix in SUFFIXES):
        for suffix, text in zip(SUFFIXES, self_signed()):
            changed |= _write(os.path.join(platform, f"default.{suffix}"), text)
    certificates = {name: pair for name, pair in certificates.items() if NAME.fullmatch(name)}
    for name, pair in certificates.items():
        for suffix, text in zip(SUFFIXES, pair):
            changed |= _write(os.path.join(tenants, f"{name}.{suffix}"), text)
    _remove_files(tenants, keep={f"{name}.{suffix}" for name in certificates for suffix in SUFFIXES})
    return changed
