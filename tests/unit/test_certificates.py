import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from core import certificates, sshkeys

NOW = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def self_signed(common_name, san=(), key=None, organization="Pier Tests", days=90):
    """A self-signed certificate: (certificate object, certificate PEM, key PEM)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(NOW)
               .not_valid_after(NOW + datetime.timedelta(days=days)))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]),
                                        critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return cert, cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem(key)


def colon_sha256(cert):
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def test_parse_fields():
    cert, cert_text, key_text = self_signed("example.com", san=["example.com", "www.example.com"])
    fields = certificates.parse(cert_text, key_text)
    assert fields["common_name"] == "example.com"
    assert fields["san"] == ["example.com", "www.example.com"]
    assert fields["fingerprint"] == colon_sha256(cert)
    assert fields["starts"] == NOW
    assert fields["expires"] == NOW + datetime.timedelta(days=90)


def test_issuer_and_subject_use_short_names_like_deis():
    _, cert_text, key_text = self_signed("example.com")
    fields = certificates.parse(cert_text, key_text)
    assert fields["subject"] == "/O=Pier Tests/CN=example.com"
    assert fields["issuer"] == "/O=Pier Tests/CN=example.com"


def test_fingerprint_is_colon_separated_uppercase_hex():
    _, cert_text, key_text = self_signed("example.com")
    fingerprint = certificates.parse(cert_text, key_text)["fingerprint"]
    pairs = fingerprint.split(":")
    assert len(pairs) == 32
    assert all(len(p) == 2 and p == p.upper() and int(p, 16) >= 0 for p in pairs)


def test_parse_rsa_certificate_without_san():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _, cert_text, key_text = self_signed("*.example.org", key=key)
    fields = certificates.parse(cert_text, key_text)
    assert fields["common_name"] == "*.example.org" and fields["san"] == []


def test_surrounding_whitespace_is_ignored():
    _, cert_text, key_text = self_signed("example.com")
    assert certificates.parse("\n\n" + cert_text + "\n  ", "  " + key_text)["common_name"] == "example.com"


def errors_of(cert_text, key_text):
    with pytest.raises(ValueError) as raised:
        certificates.parse(cert_text, key_text)
    return raised.value.args[0]


def test_swapped_files_name_both_fields():
    _, cert_text, key_text = self_signed("example.com")
    errors = errors_of(key_text, cert_text)
    assert set(errors) == {"certificate", "key"}


def test_key_of_another_certificate():
    _, cert_text, _ = self_signed("example.com")
    _, _, other_key = self_signed("example.com")
    errors = errors_of(cert_text, other_key)
    assert set(errors) == {"key"} and "does not match" in errors["key"]


@pytest.mark.parametrize("cert_text, key_text, fields", [
    ("garbage", "garbage", {"certificate", "key"}),
    ("", "", {"certificate", "key"}),
    (None, None, {"certificate", "key"}),
])
def test_unreadable_input(cert_text, key_text, fields):
    assert set(errors_of(cert_text, key_text)) == fields


def test_unreadable_certificate_only():
    _, _, key_text = self_signed("example.com")
    assert set(errors_of("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", key_text)) == {
        "certificate"}


def test_encrypted_key_is_refused():
    key = ec.generate_private_key(ec.SECP256R1())
    _, cert_text, _ = self_signed("example.com", key=key)
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"secret")).decode()
    assert set(errors_of(cert_text, encrypted)) == {"key"}


def test_oversized_input_is_refused():
    _, cert_text, key_text = self_signed("example.com")
    padded = cert_text + "\n" * (certificates.MAX_PEM + 1)
    assert set(errors_of(padded, key_text)) == {"certificate"}


def openssh_line(key, comment="me@laptop"):
    blob = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{blob.decode()} {comment}"


def ssh_keygen_fingerprint(tmp_path, line, hash_name="sha256"):
    path = tmp_path / "key.pub"
    path.write_text(line + "\n")
    output = subprocess.run(["ssh-keygen", "-E", hash_name, "-lf", str(path)], check=True, capture_output=True,
                            text=True).stdout
    return output.split()[1]


@pytest.mark.parametrize("make_key", [
    ed25519.Ed25519PrivateKey.generate,
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    lambda: ec.generate_private_key(ec.SECP256R1()),
], ids=["ed25519", "rsa", "ecdsa"])
def test_ssh_key_fingerprints_match_ssh_keygen(tmp_path, make_key):
    line = openssh_line(make_key())
    canonical, sha256, md5 = sshkeys.parse(line)
    assert canonical == line
    assert sha256 == ssh_keygen_fingerprint(tmp_path, line)
    assert "MD5:" + md5 == ssh_keygen_fingerprint(tmp_path, line, "md5")


def test_ssh_key_is_normalised():
    line = openssh_line(ed25519.Ed25519PrivateKey.generate(), comment="two words")
    kind, blob, comment = line.split(" ", 2)
    assert sshkeys.parse(f"  {kind}   {blob}  {comment}\n")[0] == line
    assert sshkeys.parse(f"{kind} {blob}")[0] == f"{kind} {blob}"


def test_ssh_key_comment_does_not_change_fingerprint():
    key = ed25519.Ed25519PrivateKey.generate()
    assert sshkeys.parse(openssh_line(key, "a"))[1:] == sshkeys.parse(openssh_line(key, "b"))[1:]


@pytest.mark.parametrize("line", [
    "", "   ", None, "ssh-ed25519", "ssh-ed25519 not-base64!", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",
    "ssh-foo AAAAB3NzaC1yc2E=", "-----BEGIN PUBLIC KEY-----", "x" * (sshkeys.MAX_LENGTH + 1),
])
def test_ssh_key_refuses(line):
    with pytest.raises(ValueError):
        sshkeys.parse(line)


def test_ssh_key_refuses_two_lines():
    first = openssh_line(ed25519.Ed25519PrivateKey.generate())
    second = openssh_line(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(ValueError):
        sshkeys.parse(first + "\n" + second)


def test_ssh_key_type_must_match_blob():
    _, blob, _ = openssh_line(ed25519.Ed25519PrivateKey.generate()).split(" ", 2)
    with pytest.raises(ValueError):
        sshkeys.parse(f"ssh-rsa {blob}")
