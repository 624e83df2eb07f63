"""S3 over HTTPS with real credentials, for pgBackRest (whose S3 client speaks HTTPS only): moto's server
with authentication switched on after one IAM user is made, behind a TLS-terminating nginx that serves a
certificate for `localhost` signed by a CA these tests make."""
import datetime
import ipaddress
import json
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.s3 import free_port, start_moto

NGINX_CONF = """daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    client_max_body_size 0;
    server {{
        {listen}
        server_name localhost;
        ssl_certificate {folder}/server.pem;
        ssl_certificate_key {folder}/server.key;
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_buffering off;
        }}
    }}
}}
"""


@dataclass(frozen=True)
class TlsS3:
    endpoint: str       # https://localhost:<port>
    access_key: str
    secret_key: str
    ca_file: str
    plain_endpoint: str  # moto itself, over HTTP, for the tests' own look at the buckets

    def client(self):
        return boto3.client("s3", endpoint_url=self.plain_endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)


def _pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_certificates(folder):
    """A CA (ca.pem) and a certificate for the DNS name localhost it signed (server.pem, server.key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pier test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                          x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(_pem(key))
    (folder / "server.key").chmod(0o600)


def _ipv6_loopback(port):
    """Whether [::1]:port can be listened on (so that `localhost` works wherever it resolves to ::1)."""
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", port))
        return True
    except OSError:
        return False


def start_nginx(folder, upstream):
    port = free_port()
    listen = f"listen 127.0.0.1:{port} ssl;" + (f" listen [::1]:{port} ssl;" if _ipv6_loopback(port) else "")
    (folder / "nginx.conf").write_text(NGINX_CONF.format(folder=folder, listen=listen, upstream=upstream))
    log = open(folder / "nginx.out", "wb")
    nginx = subprocess.Popen(["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder)],
                             stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return nginx, port
        except OSError:
            assert nginx.poll() is None, (folder / "nginx.out").read_text() + (folder / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not listen within 15 seconds"
            time.sleep(0.05)


def make_user(endpoint):
    """An IAM user allowed everything on S3, and its access key; then moto starts checking signatures."""
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIABOOTSTRAP",
                       aws_secret_access_key="bootstrap")
    iam.create_user(UserName="pier")
    key = iam.create_access_key(UserName="pier")["AccessKey"]
    iam.put_user_policy(UserName="pier", PolicyName="s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    switch_on = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                       headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(switch_on, timeout=10) as answer:
        assert json.load(answer)["status"] == "ok"
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture(scope="session")
def tls_s3(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls-s3")
    make_certificates(folder)
    moto, plain = start_moto(folder)
    nginx = None
    try:
        access_key, secret_key = make_user(plain)
        nginx, port = start_nginx(folder, plain)
        yield TlsS3(f"https://localhost:{port}", access_key, secret_key, str(folder / "ca.pem"), plain)
    finally:
        for process in (nginx, moto):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)
