"""Rate limits on what a stranger can hammer: failed logins, registrations and the builder's key look-ups.

Flask-Limiter counts in Redis (the broker, REDIS_URL), so every web worker shares the counts; while Redis
cannot be reached each worker counts in its own memory instead. A refused request gets 429 with Retry-After
and the API's error shape, {"detail": "..."}.

    failed logins      PIER_LOGIN_RATE       per username and client address; once it is reached even the
                                             right password is refused until the window has passed
    registrations      PIER_REGISTER_RATE    per client address; an administrator's are not counted
    key look-ups       PIER_KEY_LOOKUP_RATE  per fingerprint; only those with the right builder key count
"""
import functools
import ipaddress
import json
import math
import time

from flask import current_app, g, jsonify, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

KEY_PREFIX = "pier:limits"  # Redis keys: pier:limits:LIMITER/<client>/<endpoint>/<amount>/<multiples>/<unit>
REDIS_TIMEOUT = 2  # seconds; then the worker counts in memory until Redis is back


@functools.cache
def _networks(proxies):
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address():
    """The address Flask sees, unless it is one of PIER_ROUTER_TRUSTED_PROXIES: then, as nginx's
    real_ip_recursive does, the right-most X-Forwarded-For address that is not a trusted proxy."""
    remote = request.remote_addr or "unknown"
    trusted = _networks(current_app.config["PIER"].router_trusted_proxies)

    def is_trusted(address):
        return address is not None and any(address in network for network in trusted)

    if not is_trusted(_address(remote)):
        return remote
    hops = [hop.strip() for header in request.headers.getlist("X-Forwarded-For") for hop in header.split(",")]
    client = remote
    for hop in reversed([hop for hop in hops if hop]):
        if _address(hop) is None:
            break
        client = str(_address(hop))
        if not is_trusted(_address(hop)):
            break
    return client


def _login_key():
    """The client address and the username the body names (a body without one shares the address's key)."""
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = {}
    username = body.get("username") if isinstance(body, dict) else None
    return f"{client_address()}|{username[:150] if isinstance(username, str) else ''}"


def _fingerprint_key():
    return (request.view_args or {}).get("fingerprint", "")[:200] or "none"


def _failed(response):
    return response.status_code >= 400 and response.status_code != 429


def _counted_registration(response):
    caller = g.get("caller")
    return response.status_code != 429 and not (caller is not None and caller.is_superuser)


def _authenticated_look_up(response):
    return response.status_code not in (401, 403, 429)


# endpoint: (setting, key, which answers count, what the 429 says)
LIMITS = {
    "v2.login": ("login_rate", _login_key, _failed,
                 "Too many failed logins for this username from your address"),
    "v2.register": ("register_rate", client_address, _counted_registration,
                    "Too many registrations from your address"),
    "v2.user_for_key": ("key_lookup_rate", _fingerprint_key, _authenticated_look_up,
                        "Too many look-ups of this key"),
}


def install(app):
    """Puts the limits on the app's routes (call it once the blueprints are registered)."""
    settings = app.config["PIER"]
    limiter = Limiter(client_address, app=app, storage_uri=settings.redis_url, strategy="moving-window",
                      storage_options={"key_prefix": KEY_PREFIX, "socket_connect_timeout": REDIS_TIMEOUT,
                                       "socket_timeout": REDIS_TIMEOUT},
                      in_memory_fallback_enabled=True, swallow_errors=True, headers_enabled=False)
    # Each limit is checked by its view's wrapper. Flask-Limiter's own check before every request looks for
    # application-wide and default limits, of which Pier has none: it cost a tenth of each hot read's CPU.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    for endpoint, (setting, key, counts, message) in LIMITS.items():
        # the wrapped view checks its limit when it is called: after the blueprint's authentication
        app.view_functions[endpoint] = limiter.limit(getattr(settings, setting), key_func=key, deduct_when=counts,
                                                     error_message=message)(app.view_functions[endpoint])

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(exc):
        try:
            wait = max(1, math.ceil(limiter.current_limit.window.reset_time - time.time()))
        except Exception:  # the window could not be read (the store just went away): a minute is safe
            wait = 60
        response = jsonify({"detail": f"{exc.description}; try again in {wait} seconds."})
        response.status_code = 429
        response.headers["Retry-After"] = str(wait)
        return response

    return limiter
