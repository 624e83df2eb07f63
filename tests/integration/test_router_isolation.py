"""One tenant's certificate never blocks another tenant's routes, and tenants' files never touch the platform's.

A hostile tenant's certificate that nginx refuses (here an RSA-1024 key written straight into the database,
past the upload check) used to make every new configuration fail `nginx -t`, freezing routing for all apps.
"""
import os
import subprocess

import pytest

from router.certs import DEFAULT_NAME
from router.isolate import Verdicts
from router.sync import sync_once
from tests.integration.test_router import fetch, router, served_certificate  # noqa: F401
from tests.support.docker_apps import remove_app_containers
from tests.support.planted import plant_certificate
from tests.unit.test_certificates import chain, pem, rsa_key, self_signed


def files_holding(folder, text):
    """The files under `folder` whose content includes `text`."""
    found = []
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            try:
                with open(path, errors="replace") as f:
                    if text in f.read():
                        found.append(path)
            except OSError:
                pass
    return found


def reported(caller, app_id, word):
    """The lines of the app's log that mention `word`."""
    log = caller.get(f"/v2/apps/{app_id}/logs").get_data(as_text=True)
    return [line for line in log.splitlines() if word in line]


def nginx_checks(monkeypatch):
    """Counts the `nginx -t` runs from here on."""
    runs, real_run = [], subprocess.run

    def counting(args, *rest, **kwargs):
        if list(args[:2]) == ["nginx", "-t"]:
            runs.append(args)
        return real_run(args, *rest, **kwargs)
    monkeypatch.setattr(subprocess, "run", counting)
    return runs


def test_a_certificate_nginx_refuses_leaves_out_its_hosts_and_nobody_else_s(app, alice, bob, router, monkeypatch):
    client, nginx, port, _ = router
    good, evil = alice.create_app("certs-good"), bob.create_app("certs-evil")
    try:
        assert alice.post("/v2/apps/certs-good/builds", {"image": "pier-test/web:one"}).status_code == 201
        assert bob.post("/v2/apps/certs-evil/builds", {"image": "pier-test/web:one"}).status_code == 201
        bob.post("/v2/apps/certs-evil/domains", {"domain": "www.certs-evil.example"})
        sync_once(app, nginx)
        assert fetch(port, "certs-good.localhost") == (200, "one")
        _, cert_text, key_text = self_signed("www.certs-evil.example", key=rsa_key(1024))
        plant_certificate(app, "bob", "certs-weak", cert_text, key_text, domain="www.certs-evil.example")

        # another tenant redeploys and adds a domain: both go live
        assert alice.post("/v2/apps/certs-good/builds", {"image": "pier-test/web:two"}).status_code == 201
        alice.post("/v2/apps/certs-good/domains", {"domain": "www.certs-good.example"})
        assert sync_once(app, nginx) is True
        assert fetch(port, "certs-good.localhost") == (200, "two")
        assert fetch(port, "www.certs-good.example") == (200, "two")
        # only the refused server block is left out; the tenant's other hosts are still served
        assert fetch(port, "www.certs-evil.example")[0] == 404
        assert fetch(port, "certs-evil.localhost") == (200, "one")

        problem = bob.get("/v2/certs/certs-weak").get_json()["problem"]
        assert "ee key too small" in problem and "2048" in problem, problem
        evil_log = reported(bob, "certs-evil", "certs-weak")
        assert len(evil_log) == 1 and "left out www.certs-evil.example" in evil_log[0], evil_log
        assert reported(alice, "certs-good", "certs-weak") == []

        # the verdict is kept: the next change costs one `nginx -t`, and the problem is reported once
        checks = nginx_checks(monkeypatch)
        alice.post("/v2/apps/certs-good/domains", {"domain": "api.certs-good.example"})
        assert sync_once(app, nginx) is True
        assert fetch(port, "api.certs-good.example") == (200, "two")
        assert len(checks) == 1, checks
        assert reported(bob, "certs-evil", "certs-weak") == evil_log
        # a restarted router judges again, and neither reports the problem again nor changes what is served
        assert sync_once(app, nginx, verdicts=Verdicts()) is False
        assert reported(bob, "certs-evil", "certs-weak") == evil_log
        assert bob.get("/v2/certs/certs-weak").get_json()["problem"] == problem

        # once detached, the host is served again (on the platform's certificate) and the key file is gone
        assert bob.delete("/v2/certs/certs-weak/domain/www.certs-evil.example").status_code == 204
        sync_once(app, nginx)
        assert fetch(port, "www.certs-evil.example") == (200, "one")
        assert files_holding(nginx.runtime, key_text.strip()) == []
    finally:
        remove_app_containers(client, good["uuid"])
        remove_app_containers(client, evil["uuid"])


def test_a_tenant_certificate_named_default_never_replaces_the_platform_certificate(app, bob, router):
    _, nginx, _, tls_port = router
    bob.create_app("certs-squat")
    bob.post("/v2/apps/certs-squat/domains", {"domain": "www.certs-squat.example"})
    sync_once(app, nginx)
    assert served_certificate(tls_port, "nobody.localhost")[0] == DEFAULT_NAME
    _, cert_text, key_text = self_signed("www.certs-squat.example", san=["www.certs-squat.example"])
    plant_certificate(app, "bob", "default", cert_text, key_text, domain="www.certs-squat.example")
    sync_once(app, nginx)
    assert served_certificate(tls_port, "nobody.localhost")[0] == DEFAULT_NAME, "a tenant took the fallback"
    assert served_certificate(tls_port, "www.certs-squat.example")[0] == "www.certs-squat.example"


def test_a_private_key_file_goes_when_its_certificate_is_detached_from_everything_or_deleted(app, alice, router):
    _, nginx, _, _ = router
    alice.create_app("certs-keys")
    hosts = ["www.certs-keys.example", "api.certs-keys.example"]
    for host in hosts:
        alice.post("/v2/apps/certs-keys/domains", {"domain": host})
    _, cert_text, key_text = self_signed(hosts[0], san=hosts)
    assert alice.post("/v2/certs", {"name": "certs-keys", "certificate": cert_text, "key": key_text}).status_code == 201
    for host in hosts:
        assert alice.post("/v2/certs/certs-keys/domain/", {"domain": host}).status_code == 201
    sync_once(app, nginx)
    key_files = files_holding(nginx.runtime, key_text.strip())
    assert len(key_files) == 1 and os.stat(key_files[0]).st_mode & 0o077 == 0
    alice.delete(f"/v2/certs/certs-keys/domain/{hosts[0]}")
    sync_once(app, nginx)
    assert files_holding(nginx.runtime, key_text.strip()) == key_files, "still attached to one domain"
    alice.delete(f"/v2/certs/certs-keys/domain/{hosts[1]}")
    sync_once(app, nginx)
    assert files_holding(nginx.runtime, key_text.strip()) == []
    alice.post("/v2/certs/certs-keys/domain/", {"domain": hosts[0]})
    sync_once(app, nginx)
    assert len(files_holding(nginx.runtime, key_text.strip())) == 1
    assert alice.delete("/v2/certs/certs-keys").status_code == 204
    sync_once(app, nginx)
    assert files_holding(nginx.runtime, key_text.strip()) == []


def openssl(folder, *args):
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def ca_signed_with_sha1(folder, sign_the_intermediate):
    """(certificate PEM, key PEM): a leaf under an RSA CA, with SHA-1 on the leaf or on the intermediate."""
    openssl(folder, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30", "-subj", "/CN=Root",
            "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", "root.key", "-out", "root.crt")
    (folder / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\n")
    issuer = "root"
    if sign_the_intermediate:
        openssl(folder, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=Intermediate", "-keyout",
                "inter.key", "-out", "inter.csr")
        openssl(folder, "x509", "-req", "-in", "inter.csr", "-CA", "root.crt", "-CAkey", "root.key",
                "-CAcreateserial", "-sha1", "-days", "30", "-extfile", "ca.ext", "-out", "inter.crt")
        issuer = "inter"
    openssl(folder, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=leaf.example", "-keyout", "leaf.key",
            "-out", "leaf.csr")
    openssl(folder, "x509", "-req", "-in", "leaf.csr", "-CA", f"{issuer}.crt", "-CAkey", f"{issuer}.key",
            "-CAcreateserial", "-sha256" if sign_the_intermediate else "-sha1", "-days", "30", "-out", "leaf.crt")
    chain_text = (folder / "leaf.crt").read_text() + ((folder / "inter.crt").read_text() if sign_the_intermediate
                                                      else "")
    return chain_text, (folder / "leaf.key").read_text()


def nginx_refusal(folder, cert_text, key_text):
    """What `nginx -t` says about a configuration serving this pair, or None when it takes it."""
    (folder / "pair.crt").write_text(cert_text)
    (folder / "pair.key").write_text(key_text)
    (folder / "nginx.conf").write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\nhttp {{\n"
        f"    client_body_temp_path {folder}; proxy_temp_path {folder}; fastcgi_temp_path {folder};\n"
        f"    uwsgi_temp_path {folder}; scgi_temp_path {folder};\n"
        f"    server {{\n        listen 127.0.0.1:1 ssl;\n        ssl_certificate {folder}/pair.crt;\n"
        f"        ssl_certificate_key {folder}/pair.key;\n    }}\n}}\n")
    check = subprocess.run(["nginx", "-t", "-q", "-c", str(folder / "nginx.conf")], capture_output=True, text=True)
    return check.stderr if check.returncode else None


def weak_intermediate():
    leaf, intermediate, root, key_text = chain(intermediate_key=rsa_key(1024))
    return pem(leaf, intermediate, root), key_text


@pytest.mark.parametrize("make_pair", [
    lambda folder: self_signed("a.example", key=rsa_key(1024))[1:],
    lambda folder: (self_signed("a.example")[1], self_signed("a.example")[2]),
    lambda folder: weak_intermediate(),
    lambda folder: ca_signed_with_sha1(folder, sign_the_intermediate=False),
    lambda folder: ca_signed_with_sha1(folder, sign_the_intermediate=True),
], ids=["rsa-1024", "key-of-another-certificate", "intermediate-rsa-1024", "leaf-sha1", "intermediate-sha1"])
def test_every_pair_nginx_refuses_is_refused_at_upload(alice, tmp_path, make_pair):
    cert_text, key_text = make_pair(tmp_path)
    assert nginx_refusal(tmp_path, cert_text, key_text) is not None, "nginx takes this pair: not a useful case"
    response = alice.post("/v2/certs", {"name": "refused", "certificate": cert_text, "key": key_text})
    assert response.status_code == 400, response.get_json()
