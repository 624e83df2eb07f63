"""Domains, certificates, TLS, whitelists, maintenance, routing, limits and healthchecks through the router."""
import json

import docker

from tests.support.waiting import wait_for
from tests.unit.test_certificates import self_signed


def deployed(ada, name):
    ada.ok("apps:create", name, "--no-remote")
    ada.ok("pull", "pier-test/web:two", "-a", name)


def test_domains_route_by_host_and_stop_after_removal(platform, ada):
    deployed(ada, "domained")
    ada.ok("domains:add", "www.domained.example", "-a", "domained")
    assert "www.domained.example" in ada.ok("domains:list", "-a", "domained")
    assert wait_for(lambda: platform.get(None, host="www.domained.example") == (200, "two"))
    ada.ok("domains:remove", "www.domained.example", "-a", "domained")
    assert wait_for(lambda: platform.get(None, host="www.domained.example")[0] == 404)


def test_certificates_are_served_over_tls_and_bad_ones_refused(platform, ada, tmp_path):
    deployed(ada, "secure")
    host = "shop.secure.example"
    ada.ok("domains:add", host, "-a", "secure")
    _, cert, key = self_signed(host, san=[host])
    _, other_cert, other_key = self_signed("other.example", san=["other.example"])
    for name, text in (("cert.pem", cert), ("key.pem", key), ("other.pem", other_cert), ("junk.pem", "junk")):
        (tmp_path / name).write_text(text)
    assert "Error:" in ada.fails("certs:add", "junk", str(tmp_path / "junk.pem"), str(tmp_path / "key.pem"))
    assert "Error:" in ada.fails("certs:add", "swapped", str(tmp_path / "key.pem"), str(tmp_path / "cert.pem"))
    assert "Error:" in ada.fails("certs:add", "mismatch", str(tmp_path / "other.pem"), str(tmp_path / "key.pem"))
    ada.ok("certs:add", "shop", str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    ada.ok("certs:attach", "shop", host)
    assert wait_for(lambda: host in platform.certificate(host))
    assert wait_for(lambda: platform.get(None, host=host, https=True) == (200, "two"))
    ada.ok("tls:enable", "-a", "secure")
    assert wait_for(lambda: platform.get(None, host=host)[0] == 301)
    ada.ok("tls:disable", "-a", "secure")
    ada.ok("certs:detach", "shop", host)
    assert wait_for(lambda: host not in platform.certificate(host))


def test_whitelist_maintenance_and_routing(platform, ada):
    deployed(ada, "guarded")
    ada.ok("whitelist:add", "10.1.2.3", "-a", "guarded")
    assert wait_for(lambda: platform.get("guarded")[0] == 403)
    ada.ok("whitelist:add", "127.0.0.0/8", "-a", "guarded")
    assert wait_for(lambda: platform.get("guarded") == (200, "two"))
    ada.ok("whitelist:remove", "10.1.2.3,127.0.0.0/8", "-a", "guarded")
    ada.ok("maintenance:on", "-a", "guarded")
    assert wait_for(lambda: platform.get("guarded")[0] == 503)
    ada.ok("maintenance:off", "-a", "guarded")
    assert wait_for(lambda: platform.get("guarded") == (200, "two"))
    ada.ok("routing:disable", "-a", "guarded")
    assert wait_for(lambda: platform.get("guarded")[0] == 404)
    ada.ok("routing:enable", "-a", "guarded")
    assert wait_for(lambda: platform.get("guarded") == (200, "two"))


def test_limits_and_healthchecks_reach_the_running_containers(platform, ada):
    deployed(ada, "limited")
    ada.ok("limits:set", "cmd=256M", "-a", "limited")
    ada.ok("limits:set", "--cpu", "cmd=500m", "-a", "limited")
    assert "256M" in ada.ok("limits:list", "-a", "limited")
    client = docker.from_env()

    def cmd_containers():
        return [c for c in client.containers.list(filters={"label": "io.pier.app=limited"})
                if c.labels.get("io.pier.type") == "cmd"]

    def running():
        """The cmd containers, once the previous release's has drained and stopped (after the command returned)."""
        assert wait_for(lambda: len(cmd_containers()) == 1), "the old release's container never stopped"
        return cmd_containers()
    [container] = running()
    assert container.attrs["HostConfig"]["Memory"] == 256 * 2 ** 20
    assert container.attrs["HostConfig"]["NanoCpus"] == 500_000_000
    ada.ok("limits:unset", "cmd", "-a", "limited")
    [container] = running()
    assert container.attrs["HostConfig"]["Memory"] == 2 ** 30  # the platform's default (PIER_CONTAINER_MEMORY)
    ada.ok("healthchecks:set", "readiness", "httpGet", "8080", "--path", "/", "-a", "limited")
    listed = json.loads(ada.pier("healthchecks:list", "-a", "limited", "--json")[1])
    assert "readiness" in json.dumps(listed)
    assert wait_for(lambda: platform.get("limited") == (200, "two"))
    out = ada.fails("healthchecks:set", "readiness", "httpGet", "8080", "--path", "/missing", "--timeout", "1",
                    "-a", "limited")
    assert "was not ready within" in out
    assert wait_for(lambda: platform.get("limited") == (200, "two"))
    ada.ok("healthchecks:unset", "readiness", "-a", "limited")
