"""OpenSSH public keys: parsed with `cryptography`, fingerprinted as OpenSSH prints them."""
import base64
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

MAX_LENGTH = 16 * 1024


def parse(line):
    """Returns (canonical 'type base64 [comment]', 'SHA256:…', 'MD5 aa:bb:…') or raises ValueError."""
    if not isinstance(line, str) or not line.strip() or len(line) > MAX_LENGTH or "\n" in line.strip():
        raise ValueError("Public key must be one OpenSSH public key line, e.g. 'ssh-ed25519 AAAA… you@host'.")
    parts = line.strip().split(None, 2)
    if len(parts) < 2:
        raise ValueError("Public key must look like 'ssh-ed25519 AAAA… you@host'.")
    try:
        load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
        blob = base64.b64decode(parts[1], validate=True)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"Public key could not be parsed: {exc}") from None
    sha256 = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    md5 = hashlib.md5(blob).hexdigest()  # noqa: S324 - the legacy fingerprint format, not a security use
    md5 = ":".join(md5[i:i + 2] for i in range(0, len(md5), 2))
    return " ".join(parts), f"SHA256:{sha256}", md5
