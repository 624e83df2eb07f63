import pytest

from core import proxy
from core.proxy import proxy_settings
from router.render import CHECK_HOST, UnsafeRoute, generation, render, render_certificate_check

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
    assert ("server_name www.example.com;\n        ssl_certificate /run/pier/certs/tenants/example-cert.crt;\n"
            "        ssl_certificate_key /run/pier/certs/tenants/example-cert.key;") in text
    assert "server_name hello.localhost;\n        set $pier_app hello;\n        if ($scheme = http)" in text
    assert text.count("return 301 https://$host$request_uri;") == 2
    assert "listen 8443 ssl http2 default_server;" in text


def test_only_the_default_server_and_hosts_with_a_certificate_get_a_tls_context():
    """Each server with a certificate costs nginx a TLS context (about 1 ms per `nginx -t` and reload), so
    the 1,000 apps on the default certificate share the default server's."""
    routes = [dict(ROUTE, app=f"app-{i}", hosts=[f"app-{i}.localhost"]) for i in range(50)]
    routes.append(dict(ROUTE, certificates={"www.example.com": "example-cert"}))
    text = render(routes, runtime="/run/pier")
    assert text.count("ssl_certificate ") == 2
    default_server = text.split("ssl_certificate /run/pier/certs/platform/default.crt;")[0].rsplit("server {", 1)[1]
    assert "server_name _;\n" in default_server


def test_the_hosts_of_a_refused_certificate_are_left_out_and_the_rest_stays():
    route = dict(ROUTE, hosts=["hello.localhost", "www.example.com", "api.example.com"],
                 certificates={"www.example.com": "refused-cert", "api.example.com": "good-cert"})
    other = dict(ROUTE, app="other", hosts=["other.localhost"], certificates={"other.localhost": "refused-cert"})
    text = render([route, other], runtime="/run/pier", refused={"refused-cert"})
    assert "www.example.com" not in text and "other.localhost" not in text and "refused-cert" not in text
    assert "server_name hello.localhost;" in text and "server_name api.example.com;" in text
    assert "/run/pier/certs/tenants/good-cert.crt;" in text and "proxy_pass http://app-hello;" in text
    assert render([route, other], runtime="/run/pier") != text


def test_a_certificate_check_serves_those_certificates_and_no_route():
    text = render_certificate_check(["one-cert", "two-cert"], tls_listen="8443", runtime="/run/pier")
    assert text.count("ssl_certificate ") == 3 and "upstream app-" not in text
    assert f"server_name one-cert.{CHECK_HOST};\n" in text and f"server_name two-cert.{CHECK_HOST};\n" in text
    assert "ssl_certificate_key /run/pier/certs/tenants/two-cert.key;" in text
    assert "listen 8443 ssl http2 default_server;" in text


def test_a_certificate_name_that_is_not_a_label_is_refused():
    with pytest.raises(UnsafeRoute):
        render([dict(ROUTE, certificates={"www.example.com": "../../etc/x"})])


def test_an_app_can_tune_its_body_size_and_timeouts_without_touching_other_apps():
    tuned = dict(ROUTE, proxy={"body_size": "10m", "read_timeout": 300, "connect_timeout": 2})
    other = dict(ROUTE, app="other", hosts=["other.localhost"])
    text = render([tuned, other], body_size="1m", read_timeout=60, connect_timeout=5)
    assert "client_max_body_size 1m;\n" in text and "proxy_read_timeout 60s;" in text
    assert "proxy_connect_timeout 5s;" in text
    assert ("server_name hello.localhost www.example.com;\n        client_max_body_size 10m;" in text)
    assert ("proxy_pass http://app-hello;\n            proxy_read_timeout 300s;\n"
            "            proxy_connect_timeout 2s;\n        }") in text
    assert "proxy_pass http://app-other;\n        }" in text
    assert text.count("client_max_body_size") == 2


@pytest.mark.parametrize("values, wanted", [
    ({"PIER_PROXY_BODY_SIZE": "10M"}, {"body_size": "10m"}),
    ({"PIER_PROXY_BODY_SIZE": "512k", "PIER_PROXY_READ_TIMEOUT": "300s", "PIER_PROXY_CONNECT_TIMEOUT": "2"},
     {"body_size": "512k", "read_timeout": 300, "connect_timeout": 2}),
    ({"PIER_PROXY_BODY_SIZE": "1g", "OTHER": "x"}, {"body_size": "1g"}),
    ({}, {}),
])
def test_proxy_settings_are_read_from_config_values(values, wanted):
    assert proxy_settings(values) == (wanted, [])


@pytest.mark.parametrize("key, value", [
    ("PIER_PROXY_BODY_SIZE", "10m; include /etc/passwd"), ("PIER_PROXY_BODY_SIZE", "2g"),
    ("PIER_PROXY_BODY_SIZE", "0"), ("PIER_PROXY_BODY_SIZE", "10mb"), ("PIER_PROXY_BODY_SIZE", "-1m"),
    ("PIER_PROXY_BODY_SIZE", "1e3"), ("PIER_PROXY_READ_TIMEOUT", "30m"), ("PIER_PROXY_READ_TIMEOUT", "0"),
    ("PIER_PROXY_READ_TIMEOUT", "3601"), ("PIER_PROXY_READ_TIMEOUT", "5s;"), ("PIER_PROXY_READ_TIMEOUT", "1.5"),
    ("PIER_PROXY_CONNECT_TIMEOUT", "76"), ("PIER_PROXY_CONNECT_TIMEOUT", ""), ("PIER_PROXY_CONNECT_TIMEOUT", "5 5"),
])
def test_a_bad_proxy_value_falls_back_to_the_default_and_says_why(key, value):
    settings, problems = proxy_settings({key: value, "PIER_PROXY_READ_TIMEOUT": "30"} if key !=
                                        "PIER_PROXY_READ_TIMEOUT" else {key: value})
    assert proxy.KEYS[key] not in settings
    assert len(problems) == 1 and problems[0].startswith(f"{key}=") and "default" in problems[0]
    if key != "PIER_PROXY_READ_TIMEOUT":
        assert settings == {"read_timeout": 30}, "a bad value dropped the app's other, good values"


@pytest.mark.parametrize("tuning", [{"body_size": "10m;"}, {"body_size": "10M"}, {"read_timeout": "60s; evil"},
                                    {"read_timeout": 0}, {"connect_timeout": 100}, {"other": "1"}])
def test_proxy_settings_that_were_not_parsed_never_reach_the_configuration(tuning):
    with pytest.raises(UnsafeRoute):
        render([dict(ROUTE, proxy=tuning)])
