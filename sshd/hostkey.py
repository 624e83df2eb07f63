"""The builder's SSH host key: generated once, kept, and its fingerprint shown to users."""
import base64
import hashlib
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from twisted.conch.ssh import keys


def load_or_create(path):
    """The host key at `path`; a new ed25519 key (mode 0600) when there is none."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
    with open(path, "rb") as source:
        return keys.Key.fromString(source.read())


def fingerprint(key):
    """'SHA256:…' as `ssh-keygen -l` and the ssh client print it."""
    digest = hashlib.sha256(key.public().blob()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def main():
    from core.settings import Settings
    settings = Settings.from_env()
    key = load_or_create(settings.builder_host_key)
    print(f"builder SSH host key: {fingerprint(key)} ({key.sshType().decode()}, {settings.builder_host_key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
