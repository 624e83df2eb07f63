import pytest

from core import validators


def refused(check, *args):
    with pytest.raises(ValueError) as raised:
        check(*args)
    return str(raised.value)


@pytest.mark.parametrize("value", ["a", "hello", "my-app-2", "a" * 63, "x1"])
def test_app_id_accepts(value):
    assert validators.app_id(value) == value


@pytest.mark.parametrize("value", ["", "1app", "-app", "app-", "My-App", "my_app", "my.app", "a" * 64, None, 5])
def test_app_id_refuses(value):
    assert "App name must start with a letter" in refused(validators.app_id, value)


def test_app_id_refuses_reserved_names():
    assert "reserved" in refused(validators.app_id, "deis", ("deis", "pier"))
    assert validators.app_id("deis2", ("deis",)) == "deis2"


@pytest.mark.parametrize("value", ["web", "worker-2", "1", "a-b-c"])
def test_process_type_accepts(value):
    assert validators.process_type(value) == value


@pytest.mark.parametrize("value", ["", "Web", "web_1", "-web", "web-", "a--b", "a" * 64, None])
def test_process_type_refuses(value):
    refused(validators.process_type, value)


@pytest.mark.parametrize("value", ["PORT", "_private", "database_url", "A1_B2"])
def test_config_key_accepts(value):
    assert validators.config_key(value) == value


@pytest.mark.parametrize("value", ["", "1KEY", "MY-KEY", "MY KEY", "KEY=1", "K" * 256])
def test_config_key_refuses(value):
    refused(validators.config_key, value)


@pytest.mark.parametrize("key, value, clean", [
    ("GREETING", "hello world", "hello world"), ("COUNT", 3, "3"), ("RATIO", 0.5, "0.5"),
    ("PORT", "5000", "5000"), ("PORT", 1, "1"), ("PORT", 65535, "65535"), ("EMPTY", "", ""),
    ("HEALTHCHECK_PORT", "8080", "8080"), ("HEALTHCHECK_URL", "/health", "/health"),
])
def test_config_value_accepts(key, value, clean):
    assert validators.config_value(key, value) == clean


@pytest.mark.parametrize("key, value", [
    ("PORT", "0"), ("PORT", 65536), ("PORT", "http"), ("PORT", "-1"), ("PORT", "50.5"), ("PORT", ""),
    ("FLAG", True), ("LIST", ["a"]), ("MAP", {"a": 1}), ("NUL", "a\x00b"),
    ("HEALTHCHECK_TIMEOUT", "soon"), ("HEALTHCHECK_URL", "health"),
])
def test_config_value_refuses(key, value):
    refused(validators.config_value, key, value)


@pytest.mark.parametrize("key, value", [("PORT", "５０００"), ("PORT", "²"), ("HEALTHCHECK_PORT", "８０")])
def test_numeric_values_must_be_ascii_digits(key, value):
    refused(validators.config_value, key, value)


def test_port_message():
    assert refused(validators.config_value, "PORT", "70000") == "PORT must be a number from 1 to 65535."


@pytest.mark.parametrize("value, clean", [
    ("512M", "512M"), ("512m", "512M"), ("1G", "1G"), ("2GB", "2GB"), ("100kb", "100KB"), ("64B", "64B"),
    ("256M/512M", "256M/512M"), ("0", "0"),
])
def test_memory_accepts(value, clean):
    assert validators.memory(value) == clean


@pytest.mark.parametrize("value", ["", "512", "512X", "M", "-1M", "1.5G", "256M/", "/512M", "256M/512M/1G",
                                   512, None])
def test_memory_refuses(value):
    refused(validators.memory, value)


@pytest.mark.parametrize("value", ["500m", "1", "0.5", "2", "100m/1000m", "250m/1"])
def test_cpu_accepts(value):
    assert validators.cpu(value) == value


@pytest.mark.parametrize("value", ["", "m", "500M", "abc", "1 cpu", "100m/", "-1", 1, None])
def test_cpu_refuses(value):
    refused(validators.cpu, value)


@pytest.mark.parametrize("key, value", [
    ("environ", "prod"), ("example.com/tier", "gold"), ("disk", ""), ("Zone_1", "us-east-1a"),
    ("k", "a" * 63),
])
def test_tag_accepts(key, value):
    assert validators.tag(key, value) == value


@pytest.mark.parametrize("key, value", [
    ("", "x"), ("-bad", "x"), ("bad key", "x"), ("Example.com/tier", "x"), ("k" * 64, "x"),
    ("environ", "not valid"), ("environ", "-prod"), ("environ", "a" * 64), ("environ", 5),
])
def test_tag_refuses(key, value):
    refused(validators.tag, key, value)


@pytest.mark.parametrize("value", ["example-com", "a", "cert1", "a" * 63])
def test_label_name_accepts(value):
    assert validators.label_name(value) == value


@pytest.mark.parametrize("value", ["example.com", "Example", "-a", "a-", "a" * 64, "", None])
def test_label_name_refuses(value):
    assert "certificate name" in refused(validators.label_name, value, "certificate name")


@pytest.mark.parametrize("value, clean", [
    ("example.com", "example.com"), ("WWW.Example.COM", "www.example.com"), ("example.com.", "example.com"),
    ("*.example.com", "*.example.com"), ("bücher.example", "xn--bcher-kva.example"),
    ("*.bücher.example", "*.xn--bcher-kva.example"), ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("hello", "hello"), ("a1-b2.example.com", "a1-b2.example.com"),
    (".".join(["a" * 63] * 3 + ["b" * 61]), ".".join(["a" * 63] * 3 + ["b" * 61])),
])
def test_hostname_accepts(value, clean):
    assert validators.hostname(value) == clean


@pytest.mark.parametrize("value", [
    "*", "*.", "", "   ", None, "-bad.example.com", "bad-.example.com", "bad_label.example.com", "a..b.com",
    "exa mple.com", "foo.*.example.com", "*.*.example.com", "ex!ample.com", "a" * 64 + ".com",
    ".".join(["a" * 63] * 3 + ["b" * 62]), "*." + ".".join(["a" * 63] * 3 + ["b" * 60]),
])
def test_hostname_refuses(value):
    refused(validators.hostname, value)


@pytest.mark.parametrize("value", ["1.2.3.4", "example.123"])
def test_hostname_refuses_numeric_top_level_label(value):
    refused(validators.hostname, value)


def test_bare_wildcard_message():
    assert refused(validators.hostname, "*") == "Hostname can't only be a wildcard."


@pytest.mark.parametrize("value, clean", [
    ("10.0.0.1", "10.0.0.1"), (" 10.0.0.1 ", "10.0.0.1"), ("10.0.0.1/32", "10.0.0.1/32"),
    ("192.168.0.0/24", "192.168.0.0/24"), ("192.168.0.7/24", "192.168.0.0/24"), ("0.0.0.0/0", "0.0.0.0/0"),
    ("2001:DB8:0:0::1", "2001:db8::1"), ("2001:db8::/32", "2001:db8::/32"), ("2001:db8::1/128", "2001:db8::1/128"),
])
def test_address_canonical_form(value, clean):
    assert validators.address(value) == clean


@pytest.mark.parametrize("value", ["", "10.0.0", "10.0.0.256", "10.0.0.0/33", "2001:db8::/129", "host.example",
                                   "10.0.0.1/24/8", 167772161, None])
def test_address_refuses(value):
    refused(validators.address, value)


def test_address_refuses_scoped_ipv6():
    refused(validators.address, "fe80::1%eth0")


@pytest.mark.parametrize("value", ["laptop", "me@host", "a.b+c-d_e", "k" * 128])
def test_key_id_accepts(value):
    assert validators.key_id(value) == value


@pytest.mark.parametrize("value", ["", "my key", "a/b", "k" * 129, None])
def test_key_id_refuses(value):
    refused(validators.key_id, value)


@pytest.mark.parametrize("value", ["alice", "a.b@c+d-e_f", "u" * 150])
def test_username_accepts(value):
    assert validators.username(value) == value


@pytest.mark.parametrize("value", ["", "al ice", "al/ice", "u" * 151, None])
def test_username_refuses(value):
    refused(validators.username, value)


@pytest.mark.parametrize("check, value", [
    (validators.app_id, "hello\n"),
    (validators.process_type, "web\n"),
    (validators.config_key, "FOO\n"),
    (lambda v: validators.config_value("PORT", v), "5000\n"),
    (validators.memory, "512M\n"),
    (validators.key_id, "laptop\n"),
    (validators.username, "alice\n"),
])
def test_a_trailing_newline_is_not_a_valid_name(check, value):
    with pytest.raises(ValueError):
        check(value)


@pytest.mark.parametrize("key, value", [("PIER_PROXY_BODY_SIZE", "10m"), ("PIER_PROXY_READ_TIMEOUT", "300"),
                                        ("PIER_PROXY_CONNECT_TIMEOUT", "5s")])
def test_proxy_settings_that_nginx_can_take(key, value):
    assert validators.config_value(key, value) == value


@pytest.mark.parametrize("key, value", [("PIER_PROXY_BODY_SIZE", "10m; evil"), ("PIER_PROXY_BODY_SIZE", "2g"),
                                        ("PIER_PROXY_READ_TIMEOUT", "0"), ("PIER_PROXY_CONNECT_TIMEOUT", "90")])
def test_proxy_settings_nginx_cannot_take_are_refused_at_the_edge(key, value):
    with pytest.raises(ValueError, match=key):
        validators.config_value(key, value)
