"""nginx configuration as a pure function of Pier's routes."""
import hashlib
import ipaddress
import os
import re

import jinja2

from core import proxy
from router.certs import NAME as CERTIFICATE
from router.certs import platform_folder, tenant_folder

APP = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
HOST = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
ENDPOINT = re.compile(r"^[0-9a-f.:\[\]]+:[0-9]{1,5}$")

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")),
    autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


GENERATION_PLACEHOLDER = "GENERATION-PLACEHOLDER"


class UnsafeRoute(ValueError):
    """A route carries text that must never reach nginx's configuration."""


def _checked(route):
    if not APP.fullmatch(route["app"]):
        raise UnsafeRoute(f"app id {route['app']!r}")
    for host in route["hosts"]:
        if not HOST.fullmatch(host):
            raise UnsafeRoute(f"host {host!r} of {route['app']}")
    for endpoint in route["endpoints"]:
        if not ENDPOINT.fullmatch(endpoint):
            raise UnsafeRoute(f"endpoint {endpoint!r} of {route['app']}")
    for address in route.get("whitelist", []):
        _network(address, route["app"])
    try:
        proxy.checked(route.get("proxy", {}), route["app"])
    except ValueError as exc:
        raise UnsafeRoute(str(exc)) from None
    return route


def _network(text, owner):
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise UnsafeRoute(f"address {text!r} of {owner}") from None


def _groups(route, refused):
    """The app's hosts grouped by the certificate attached to them (None: the default certificate), without
    the hosts of the certificates nginx refused."""
    certificates = route.get("certificates", {})
    for name in certificates.values():
        if not CERTIFICATE.fullmatch(name):
            raise UnsafeRoute(f"certificate name {name!r} of {route['app']}")
    grouped = {}
    for host in sorted(set(route["hosts"])):
        grouped.setdefault(certificates.get(host), []).append(host)
    return [{"certificate": name, "hosts": hosts} for name, hosts in
            sorted(grouped.items(), key=lambda item: item[0] or "") if name not in refused]


def render(routes, listen="80", tls_listen="443", runtime="/var/lib/pier/router", body_size="1m",
           read_timeout=60, connect_timeout=5, trusted_proxies=(), refused=()):
    """routes: [{"app", "hosts": [...], "endpoints": ["ip:port"], "maintenance": bool, "whitelist": [...],
    "https_enforced": bool, "certificates": {host: certificate name}, "proxy": {"body_size": "10m",
    "read_timeout": seconds, "connect_timeout": seconds}}], routable apps only; `proxy` (parsed by
    core.proxy) overrides the platform defaults given here for one app.
    `trusted_proxies`: addresses whose X-Forwarded-For names the real client. `refused`: names of the
    certificates nginx refuses; the server blocks of their hosts are left out, the app's other hosts stay.
    Certificate files are expected where router/certs.py writes them.
    The same routes always give the same text, so a reload happens only when something changed."""
    ordered = sorted((_checked(r) for r in routes), key=lambda r: r["app"])
    ordered = [dict(r, groups=_groups(r, refused), endpoints=sorted(set(r["endpoints"])),
                    whitelist=[_network(a, r["app"]) for a in r.get("whitelist", [])],
                    https_enforced=bool(r.get("https_enforced")), proxy=r.get("proxy", {})) for r in ordered]
    proxies = [_network(p, "PIER_ROUTER_TRUSTED_PROXIES") for p in trusted_proxies]
    text = _templates.get_template("nginx.conf.j2").render(
        routes=ordered, listen=listen, tls_listen=tls_listen, runtime=runtime, body_size=body_size,
        read_timeout=read_timeout, connect_timeout=connect_timeout, trusted_proxies=proxies,
        platform_certs=platform_folder(runtime), tenant_certs=tenant_folder(runtime),
        generation=GENERATION_PLACEHOLDER)
    return text.replace(GENERATION_PLACEHOLDER, hashlib.sha256(text.encode()).hexdigest()[:16])


CHECK_APP, CHECK_HOST = "pier-certificate-check", "certificate-check.invalid"


def render_certificate_check(names, listen="80", tls_listen="443", runtime="/var/lib/pier/router"):
    """A configuration with the tenant certificates `names` and no route, for `nginx -t` to judge them apart."""
    hosts = {f"{name}.{CHECK_HOST}": name for name in names}
    return render([{"app": CHECK_APP, "hosts": list(hosts), "endpoints": [], "maintenance": False,
                    "certificates": hosts}], listen=listen, tls_listen=tls_listen, runtime=runtime)


def generation(text):
    """The generation a rendered configuration serves at /__pier/generation, to tell when it is live."""
    match = re.search(r'/__pier/generation \{\s*return 200 "([0-9a-f]+)"', text)
    return match.group(1) if match else None
