import pytest

from router.render import UnsafeRoute, generation, render

ROUTE = {"app": "hello", "hosts": ["www.example.com", "hello.localhost"], "endpoints": ["172.18.0.3:5000",
                                                                                    "172.18.0.2:5000"],
         "maintenance": False}


def test_a_routed_app_gets_an_upstream_and_a_server_for_its_hosts():
    text = render([ROUTE], listen="127.0.0.1:8080", runtime="/run/pier")
    assert "upstream app-hello {\n        server 172.18.0.2:5000;\n        server 172.18.0.3:5000;" in text
    assert "server_name hello.localhost www.example.com;" in text
    assert "proxy_pass http://app-hello;" in text
    assert "listen 127.0.0.1:8080 default_server;" in text


def test_the_same_routes_in_any_order_render_the_same_text_and_generation():
    other = dict(ROUTE, app="other", hosts=["other.localhost"])
    first = render([ROUTE, other])
    second = render([dict(other), dict(ROUTE, hosts=list(reversed(ROUTE["hosts"])))])
    assert first == second and generation(first) == generation(second) is not None
    assert generation(render([ROUTE])) != generation(first)


def test_maintenance_and_no_endpoints_answer_503_without_an_upstream():
    text = render([dict(ROUTE, maintenance=True), dict(ROUTE, app="idle", hosts=["idle.localhost"], endpoints=[])])
    assert 'return 503 "hello is down for maintenance. (Pier)\\n";' in text
    assert 'return 503 "idle has no running web process. (Pier)\\n";' in text
    assert "upstream app-" not in text


@pytest.mark.parametrize("field, value", [("app", "x; evil"), ("hosts", ["a.com; include /etc/passwd"]),
                                          ("endpoints", ["1.2.3.4:80; server evil"]), ("hosts", ["A.COM"])])
def test_text_that_could_change_the_configuration_is_refused(field, value):
    with pytest.raises(UnsafeRoute):
        render([dict(ROUTE, **{field: value})])


def test_a_whitelist_allows_its_addresses_and_denies_the_rest():
    text = render([dict(ROUTE, whitelist=["10.0.0.0/8", "192.168.1.7"])])
    assert "allow 10.0.0.0/8;\n        allow 192.168.1.7/32;\n        deny all;" in text
    assert "deny all;" not in render([ROUTE])


def test_trusted_proxies_name_the_real_client():
    text = render([ROUTE], trusted_proxies=["127.0.0.1"])
    assert "set_real_ip_from 127.0.0.1/32;" in text and "real_ip_header X-Forwarded-For;" in text
    assert "set_real_ip_from" not in render([ROUTE])


@pytest.mark.parametrize("whitelist", [["1.2.3.4; deny"], ["not-an-ip"]])
def test_a_whitelist_entry_that_is_not_an_address_is_refused(whitelist):
    with pytest.raises(UnsafeRoute):
        render([dict(ROUTE, whitelist=whitelist)])


def test_hosts_with_an_attached_certificate_get_their_own_tls_server():
    text = render([dict(ROUTE, certificates={"www.example.com": "example-cert"}, https_enforced=True)],
                  tls_listen="8443", runtime="/run/pier")
    assert ("server_name www.example.com;\n        ssl_certificate /run/pier/certs/example-cert.crt;\n"
            "        ssl_certificate_key /run/pier/certs/example-cert.key;") in text
    assert "server_name hello.localhost;\n        if ($scheme = http)" in text
    assert text.count("return 301 https://$host$request_uri;") == 2
    assert "listen 8443 ssl http2 default_server;" in text


def test_a_certificate_name_that_is_not_a_label_is_refused():
    with pytest.raises(UnsafeRoute):
        render([dict(ROUTE, certificates={"www.example.com": "../../etc/x"})])
