"""The router with the real nginx in front of real app containers."""
import os
import shutil
import socket
import ssl
import tempfile
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from router.apply import Nginx, RouterConfigError
from router.certs import DEFAULT_NAME
from router.sync import sync_once
from tests.support.docker_apps import build_images, remove_app_containers
from tests.support.recording_scheduler import settings_changed
from tests.unit.test_certificates import self_signed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def router(app, worker):
    client = build_images()
    port, tls_port = free_port(), free_port()
    runtime = tempfile.mkdtemp(prefix="pier-router-test-")  # not under pytest's private (0700) tmp_path
    os.chmod(runtime, 0o711)
    with settings_changed(app, scheduler="docker", deploy_timeout=30.0, drain_seconds=0.0, stop_grace_seconds=2,
                          router_listen=f"127.0.0.1:{port}", router_tls_listen=f"127.0.0.1:{tls_port}",
                          router_runtime=runtime):
        nginx = Nginx(runtime, f"127.0.0.1:{port}")
        try:
            yield client, nginx, port, tls_port
        finally:
            nginx.stop()
            shutil.rmtree(runtime, ignore_errors=True)


def fetch(port, host, path="/", headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_apps_are_routed_by_host_with_their_settings(app, alice, router):
    client, nginx, port, _ = router
    created = alice.create_app("routed")
    try:
        sync_once(app, nginx)
        assert fetch(port, "routed.localhost")[0] == 503
        assert fetch(port, "nobody.localhost")[0] == 404
        alice.post("/v2/apps/routed/builds", {"image": "pier-test/web:one"})
        alice.post("/v2/apps/routed/domains", {"domain": "www.routed.example"})
        assert sync_once(app, nginx) is True
        assert sync_once(app, nginx) is False, "nginx was reloaded although nothing changed"
        assert fetch(port, "routed.localhost") == (200, "one")
        assert fetch(port, "www.routed.example") == (200, "one")
        alice.post("/v2/apps/routed/settings", {"maintenance": True})
        sync_once(app, nginx)
        assert fetch(port, "routed.localhost")[0] == 503
        alice.post("/v2/apps/routed/settings", {"maintenance": False, "routable": False})
        sync_once(app, nginx)
        assert fetch(port, "routed.localhost")[0] == 404
        alice.post("/v2/apps/routed/settings", {"routable": True})
        alice.post("/v2/apps/routed/scale", {"cmd": 0})
        sync_once(app, nginx)
        assert fetch(port, "routed.localhost")[0] == 503
    finally:
        remove_app_containers(client, created["uuid"])


def test_a_configuration_nginx_refuses_is_never_applied(app, router):
    _, nginx, port, _ = router
    sync_once(app, nginx)
    good = nginx.current()
    with pytest.raises(RouterConfigError):
        nginx.apply(good.replace("worker_connections 4096;", "worker_connections bogus;"))
    assert nginx.current() == good
    assert fetch(port, "nobody.localhost")[0] == 404


def test_a_whitelist_refuses_other_clients_and_trusts_only_configured_proxies(app, alice, router):
    client, nginx, port, _ = router
    created = alice.create_app("listed")
    try:
        alice.post("/v2/apps/listed/builds", {"image": "pier-test/web:one"})
        alice.post("/v2/apps/listed/whitelist", {"addresses": ["10.9.9.0/24"]})
        sync_once(app, nginx)
        forwarded = {"X-Forwarded-For": "10.9.9.9"}
        assert fetch(port, "listed.localhost")[0] == 403
        assert fetch(port, "listed.localhost", headers=forwarded)[0] == 403, "trusted an unconfigured proxy"
        with settings_changed(app, router_trusted_proxies=("127.0.0.1",)):
            sync_once(app, nginx)
            assert fetch(port, "listed.localhost", headers=forwarded) == (200, "one")
            assert fetch(port, "listed.localhost", headers={"X-Forwarded-For": "10.1.1.1"})[0] == 403
        alice.delete("/v2/apps/listed/whitelist", {"addresses": ["10.9.9.0/24"]})
        sync_once(app, nginx)
        assert fetch(port, "listed.localhost") == (200, "one")
    finally:
        remove_app_containers(client, created["uuid"])


def served_certificate(tls_port, host):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            reply = b""
            while chunk := tls.recv(65536):
                reply += chunk
    common_name = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return common_name, reply.decode(errors="replace")


def test_tls_serves_attached_certificates_by_sni_and_enforces_https(app, alice, router):
    client, nginx, port, tls_port = router
    created = alice.create_app("secure")
    try:
        alice.post("/v2/apps/secure/builds", {"image": "pier-test/web:one"})
        alice.post("/v2/apps/secure/domains", {"domain": "www.secure.example"})
        _, certificate, key = self_signed("www.secure.example", san=["www.secure.example"])
        assert alice.post("/v2/certs", {"name": "secure-cert", "certificate": certificate, "key": key}).status_code == 201
        assert alice.post("/v2/certs/secure-cert/domain/", {"domain": "www.secure.example"}).status_code == 201
        sync_once(app, nginx)
        name, reply = served_certificate(tls_port, "www.secure.example")
        assert name == "www.secure.example" and reply.startswith("HTTP/1.1 200") and reply.endswith("one")
        name, reply = served_certificate(tls_port, "secure.localhost")
        assert name == DEFAULT_NAME and reply.endswith("one")
        assert negotiated_protocol(tls_port, "www.secure.example") == "h2"
        assert negotiated_protocol(tls_port, "secure.localhost") == "h2", "no h2 with the default certificate"
        assert fetch(port, "secure.localhost") == (200, "one")
        alice.post("/v2/apps/secure/tls", {"https_enforced": True})
        sync_once(app, nginx)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/path?q=1", headers={"Host": "secure.localhost"})
        with pytest.raises(urllib.error.HTTPError) as redirect:
            urllib.request.build_opener(NoRedirect).open(request, timeout=10)
        assert redirect.value.code == 301
        assert redirect.value.headers["Location"] == "https://secure.localhost/path?q=1"
        assert served_certificate(tls_port, "secure.localhost")[1].endswith("one")
        alice.delete("/v2/certs/secure-cert/domain/www.secure.example")
        sync_once(app, nginx)
        assert served_certificate(tls_port, "www.secure.example")[0] == DEFAULT_NAME
    finally:
        remove_app_containers(client, created["uuid"])


def negotiated_protocol(tls_port, host):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.selected_alpn_protocol()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_warm_up_before_forking_the_router_reads_the_routes_and_writes_nothing(app, alice, tmp_path):
    """The workers' fleet runs it in its parent (core.pool.before_fork): no file, no nginx, no row."""
    from core.extensions import db
    from core.models import App
    from router.warm_up import warm_up
    assert alice.post("/v2/apps", {"id": "warm"}).status_code == 201
    settings = app.config["PIER"]
    runtime = os.path.abspath(settings.router_runtime)
    before = sorted(os.listdir(runtime)) if os.path.isdir(runtime) else None
    with app.app_context():
        assert warm_up(app) is None
        assert not db.session.new and not db.session.dirty
        assert db.session.scalar(db.select(db.func.count()).select_from(App)) == 1
    assert (sorted(os.listdir(runtime)) if os.path.isdir(runtime) else None) == before
