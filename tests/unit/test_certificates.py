import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from core import certificates, sshkeys

# Certificates start a day ago, so that uploads (which refuse expired ones) take them whenever the tests run
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(days=1)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def issued(common_name, key, issuer=None, issuer_key=None, san=(), organization="Pier Tests", days=90,
           starts=None, ca=False):
    """A certificate for `key`, signed by `issuer_key` under the name of `issuer` (itself when None)."""
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    starts = starts or NOW
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer.subject if issuer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(starts)
               .not_valid_after(starts + datetime.timedelta(days=days)))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]),
                                        critical=False)
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    signer = issuer_key or key
    return builder.sign(signer, None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256())


def pem(*certs):
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode() for cert in certs)


def self_signed(common_name, san=(), key=None, organization="Pier Tests", days=90, starts=None):
    """A self-signed certificate: (certificate object, certificate PEM, key PEM)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    cert = issued(common_name, key, san=san, organization=organization, days=days, starts=starts)
    return cert, pem(cert), key_pem(key)


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


def rsa_key(bits):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@pytest.mark.parametrize("make_key, needed", [
    (lambda: rsa_key(1024), "2048"),
    (lambda: dsa.generate_private_key(1024), "2048"),
    (lambda: ec.generate_private_key(ec.SECP224R1()), "P-256"),
    (lambda: ec.generate_private_key(ec.SECP256K1()), "P-256"),
], ids=["rsa-1024", "dsa-1024", "ec-p224", "ec-secp256k1"])
def test_a_key_nginx_would_refuse_is_refused_saying_what_it_needs(make_key, needed):
    _, cert_text, key_text = self_signed("example.com", key=make_key())
    errors = errors_of(cert_text, key_text)
    assert set(errors) == {"key"} and needed in errors["key"], errors


@pytest.mark.parametrize("make_key", [
    lambda: rsa_key(2048), lambda: ec.generate_private_key(ec.SECP384R1()),
    lambda: ec.generate_private_key(ec.SECP521R1()), ed25519.Ed25519PrivateKey.generate,
], ids=["rsa-2048", "ec-p384", "ec-p521", "ed25519"])
def test_keys_at_openssl_security_level_2_are_taken(make_key):
    _, cert_text, key_text = self_signed("example.com", key=make_key())
    assert certificates.parse(cert_text, key_text)["common_name"] == "example.com"


def openssl_self_signed(tmp_path, digest):
    """A certificate signed with `digest`, which `cryptography` no longer signs with: made by openssl."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", f"-{digest}", "-days", "30",
                    "-subj", "/CN=old.example", "-keyout", str(key), "-out", str(cert)], check=True,
                   capture_output=True)
    return cert.read_text(), key.read_text()


def test_a_sha1_signature_is_refused(tmp_path):
    errors = errors_of(*openssl_self_signed(tmp_path, "sha1"))
    assert set(errors) == {"certificate"} and "SHA-1" in errors["certificate"], errors


def test_an_expired_certificate_is_refused_with_its_date():
    yesterday = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(days=1)
    _, cert_text, key_text = self_signed("example.com", starts=yesterday - datetime.timedelta(days=90), days=90)
    errors = errors_of(cert_text, key_text)
    assert set(errors) == {"certificate"} and "expired" in errors["certificate"], errors
    assert yesterday.strftime("%Y-%m-%d") in errors["certificate"]


def chain(intermediate_key=None):
    """(leaf, intermediate, root certificates, leaf key PEM): a root CA, an intermediate it signed, a leaf."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = issued("Pier Test Root", root_key, ca=True)
    intermediate_key = intermediate_key or ec.generate_private_key(ec.SECP256R1())
    intermediate = issued("Pier Test Intermediate", intermediate_key, issuer=root, issuer_key=root_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = issued("www.example.com", leaf_key, issuer=intermediate, issuer_key=intermediate_key,
                  san=["www.example.com"])
    return leaf, intermediate, root, key_pem(leaf_key)


def test_a_chain_in_order_is_taken_and_described_by_its_leaf():
    leaf, intermediate, root, key_text = chain()
    fields = certificates.parse(pem(leaf, intermediate, root), key_text)
    assert fields["common_name"] == "www.example.com" and fields["issuer"] == "/O=Pier Tests/CN=Pier Test Intermediate"
    assert certificates.parse(pem(leaf, intermediate), key_text)["fingerprint"] == colon_sha256(leaf)


@pytest.mark.parametrize("order, says", [((0, 2, 1), "out of order"), ((0, 2), "out of order"),
                                         ((1, 0, 2), "first")], ids=["root-before-intermediate", "gap", "leaf-second"])
def test_a_chain_out_of_order_is_refused(order, says):
    *certs, key_text = chain()
    errors = errors_of(pem(*(certs[i] for i in order)), key_text)
    assert set(errors) == {"certificate"} and says in errors["certificate"], errors


def test_a_weak_key_in_the_chain_is_refused():
    leaf, intermediate, root, key_text = chain(intermediate_key=rsa_key(1024))
    errors = errors_of(pem(leaf, intermediate, root), key_text)
    assert set(errors) == {"certificate"} and "2048" in errors["certificate"]
    assert "Pier Test Intermediate" in errors["certificate"]


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
