"""PEM certificates and keys, parsed with `cryptography` and checked by the rules nginx applies when it loads
them: OpenSSL's default security level 2 on Debian bookworm (keys worth at least 112 bits, no MD5 or SHA-1
signatures), the key belonging to the first certificate, each further certificate the issuer of the one
before; and not expired (Deis took expired certificates; Pier refuses them, naming the date). A pair that
passes here is one nginx loads; the router still leaves out any it refuses (router/isolate.py)."""
import hashlib
from datetime import datetime, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

MAX_PEM = 64 * 1024
MIN_BITS = 2048  # RSA and DSA, as OpenSSL's security level 2 wants them
CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
WEAK_HASHES = {"md5": "MD5", "sha1": "SHA-1"}
STRONG_KEYS = f"an RSA key of at least {MIN_BITS} bits or an EC key on P-256, P-384 or P-521"


def _openssl_style(name):
    """'/O=Acme/CN=example.com', as `openssl x509 -subject` and Deis print names."""
    return "/" + "/".join(f"{attr.rfc4514_attribute_name}={attr.value}" for attr in name)


def _load(certificate_pem, key_pem):
    """(certificates, key, {field: message}) with what could not be read."""
    errors, chain, key = {}, [], None
    if not isinstance(certificate_pem, str) or len(certificate_pem) > MAX_PEM:
        errors["certificate"] = "Certificate must be PEM text."
    else:
        try:
            chain = x509.load_pem_x509_certificates(certificate_pem.strip().encode())
        except ValueError:
            errors["certificate"] = ("Could not load the certificate: expected a PEM 'BEGIN CERTIFICATE' "
                                     "block (is it the key?).")
    if not isinstance(key_pem, str) or len(key_pem) > MAX_PEM:
        errors["key"] = "Key must be PEM text."
    else:
        try:
            key = serialization.load_pem_private_key(key_pem.strip().encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            errors["key"] = ("Could not load the private key: expected an unencrypted PEM private key "
                             "(is it the certificate?).")
    return chain, key, errors


def _public(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def weak_key(public_key):
    """What makes a key too weak for nginx, e.g. 'RSA 1024 bits', or None when it is strong enough."""
    if isinstance(public_key, (rsa.RSAPublicKey, dsa.DSAPublicKey)):
        kind = "RSA" if isinstance(public_key, rsa.RSAPublicKey) else "DSA"
        return f"{kind} {public_key.key_size} bits" if public_key.key_size < MIN_BITS else None
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return None if public_key.curve.name in CURVES else f"EC on the curve {public_key.curve.name}"
    if isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return None
    return f"of a type nginx cannot serve ({type(public_key).__name__})"


def weak_signature(cert):
    """The hash a certificate is signed with when OpenSSL's security level 2 refuses it ('SHA-1'), else None."""
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return f"an unknown algorithm ({cert.signature_algorithm_oid.dotted_string})"
    return WEAK_HASHES.get(algorithm.name) if algorithm is not None else None


def _self_signed(cert):
    return cert.issuer == cert.subject


def _issued_by(cert, issuer):
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


def _chain_problem(chain):
    """What is wrong with the certificates after the first (a chain, in order), or None."""
    for number, cert in enumerate(chain[1:], start=2):
        what = f"Certificate {number} of the chain ({_openssl_style(cert.subject)})"
        weak = weak_key(cert.public_key())
        if weak:
            return (f"{what} has a key that is {weak}, which nginx refuses; every certificate of the chain needs "
                    f"{STRONG_KEYS} (ask the issuer for its current intermediate).")
        signature = weak_signature(cert)
        if signature and not _self_signed(cert):  # OpenSSL never checks a root's own signature
            return f"{what} is signed with {signature}, which nginx refuses; use a chain signed with SHA-256."
    for number, (cert, issuer) in enumerate(zip(chain, chain[1:]), start=1):
        if not _issued_by(cert, issuer):
            return (f"The chain is out of order or incomplete: certificate {number + 1} "
                    f"({_openssl_style(issuer.subject)}) did not issue certificate {number} "
                    f"({_openssl_style(cert.subject)}). Put the server's certificate first, then each issuer "
                    "right after the certificate it signed.")
    return None


def problems(certificate_pem, key_pem, now=None):
    """{field: message} for what keeps nginx from serving this pair (or makes it useless: expired), {} when
    nothing does."""
    chain, key, errors = _load(certificate_pem, key_pem)
    if errors:
        return errors
    leaf = chain[0]
    if _public(leaf.public_key()) != _public(key.public_key()):
        for number, cert in enumerate(chain[1:], start=2):
            if _public(cert.public_key()) == _public(key.public_key()):
                return {"certificate": f"The server's certificate must come first: the key belongs to "
                                       f"certificate {number} ({_openssl_style(cert.subject)})."}
        return {"key": "The private key does not match the certificate."}
    weak = weak_key(key.public_key())
    if weak:
        errors["key"] = (f"The key is {weak}, which nginx refuses (OpenSSL security level 2). Make "
                         f"{STRONG_KEYS}, and have the certificate issued for it.")
    signature = weak_signature(leaf)
    chain_problem = _chain_problem(chain)
    expires = leaf.not_valid_after_utc
    if signature:
        errors["certificate"] = (f"The certificate is signed with {signature}, which nginx refuses (OpenSSL "
                                 "security level 2); have it issued again, signed with SHA-256.")
    elif chain_problem:
        errors["certificate"] = chain_problem
    elif expires < (now or datetime.now(timezone.utc)):
        errors["certificate"] = f"The certificate expired on {expires:%Y-%m-%dT%H:%M:%SZ}; upload a renewed one."
    return errors


def parse(certificate_pem, key_pem):
    """Returns the (first) certificate's fields, or raises ValueError({field: message}) when nginx would
    refuse the pair, or it expired."""
    errors = problems(certificate_pem, key_pem)
    if errors:
        raise ValueError(errors)
    cert = x509.load_pem_x509_certificate(certificate_pem.strip().encode())
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        san = []
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return {
        "common_name": common_names[0].value if common_names else "",
        "san": list(san),
        "fingerprint": ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)),
        "issuer": _openssl_style(cert.issuer),
        "subject": _openssl_style(cert.subject),
        "starts": cert.not_valid_before_utc,
        "expires": cert.not_valid_after_utc,
    }
