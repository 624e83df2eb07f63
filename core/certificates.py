"""PEM certificates and keys, parsed with `cryptography`."""
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

MAX_PEM = 64 * 1024


def _openssl_style(name):
    """'/O=Acme/CN=example.com', as `openssl x509 -subject` and Deis print names."""
    return "/" + "/".join(f"{attr.rfc4514_attribute_name}={attr.value}" for attr in name)


def parse(certificate_pem, key_pem):
    """Returns the certificate's fields, or raises ValueError({field: message}) if either PEM is bad or
    the key does not belong to the certificate."""
    errors = {}
    cert = key = None
    if not isinstance(certificate_pem, str) or len(certificate_pem) > MAX_PEM:
        errors["certificate"] = "Certificate must be PEM text."
    else:
        try:
            cert = x509.load_pem_x509_certificate(certificate_pem.strip().encode())
        except ValueError:
            errors["certificate"] = ("Could not load the certificate: expected a PEM 'BEGIN CERTIFICATE' "
                                     "block (is it the key?).")
    if not isinstance(key_pem, str) or len(key_pem) > MAX_PEM:
        errors["key"] = "Key must be PEM text."
    else:
        try:
            key = serialization.load_pem_private_key(key_pem.strip().encode(), password=None)
        except (ValueError, TypeError):
            errors["key"] = ("Could not load the private key: expected an unencrypted PEM private key "
                             "(is it the certificate?).")
    if errors:
        raise ValueError(errors)
    cert_public = cert.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    key_public = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    if cert_public != key_public:
        raise ValueError({"key": "The private key does not match the certificate."})
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
