"""The controller's hook endpoints, as the builder calls them (the builder never touches the database)."""
import time

import requests
from urllib3.exceptions import NewConnectionError

USER_AGENT = "pier-builder"
RETRY_PAUSE_SECONDS = 1.0


class ControllerError(Exception):
    """The controller refused or could not be reached; the text is for the user's terminal."""


def _never_sent(exc):
    """Whether a failed request certainly never reached the controller (the connection was refused)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


class Controller:
    def __init__(self, settings, timeout=30.0, retry_seconds=0.0):
        """`retry_seconds`: how long to keep trying while the controller restarts (a git hook can wait; an
        SSH handshake cannot). Only requests that never reached it, or reads, are sent again."""
        self.base = settings.controller_url.rstrip("/") + "/v2/hooks/"
        self.timeout, self.retry_seconds = timeout, retry_seconds
        self.http = requests.Session()
        self.http.headers.update({"X-Deis-Builder-Auth": settings.builder_key, "User-Agent": USER_AGENT})

    def _call(self, method, path, timeout=None, **kwargs):
        deadline = time.monotonic() + self.retry_seconds
        while True:
            try:
                return self.http.request(method, self.base + path, timeout=timeout or self.timeout, **kwargs)
            except requests.RequestException as exc:
                again = (_never_sent(exc) or method == "GET") and time.monotonic() < deadline
                if not again:
                    raise ControllerError(f"the controller at {self.base} cannot be reached: "
                                          f"{type(exc).__name__}") from None
                time.sleep(RETRY_PAUSE_SECONDS)

    def user_for_key(self, fingerprint):
        """(username, {app id: app uuid}) of the key's owner, or None for a key nobody has added."""
        response = self._call("GET", f"key/{fingerprint}")
        if response.status_code == 404:
            return None
        body = _body(response)
        return body["username"], dict(body["app_uuids"])

    def apps(self):
        """{app id: app uuid} of every app."""
        return dict(_body(self._call("GET", "apps"))["apps"])

    def config(self, user, app):
        response = self._call("POST", "config", json={"receive_user": user, "receive_repo": app})
        return _body(response)

    def build(self, user, app, image, sha, procfile, dockerfile):
        """Records the build; returns (release version, its deploy operation as the API shows it)."""
        payload = {"receive_user": user, "receive_repo": app, "image": image, "sha": sha,
                   "procfile": procfile, "dockerfile": dockerfile}
        body = _body(self._call("POST", "build", json=payload, headers={"Prefer": "respond-async"}))
        return body["release"]["version"], body["operation"]

    def operation(self, operation_uuid):
        return _body(self._call("GET", f"operations/{operation_uuid}"))


def _body(response):
    if response.status_code >= 400:
        raise ControllerError(_error_text(response))
    return response.json()


def _error_text(response):
    try:
        body = response.json()
    except ValueError:
        return f"the controller answered {response.status_code}"
    if isinstance(body, dict):
        if "detail" in body:
            return str(body["detail"])
        return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in body.items())
    return str(body)
