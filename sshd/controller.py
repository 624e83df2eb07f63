"""The controller's hook endpoints, as the builder calls them (the builder never touches the database)."""
import requests

USER_AGENT = "pier-builder"


class ControllerError(Exception):
    """The controller refused or could not be reached; the text is for the user's terminal."""


class Controller:
    def __init__(self, settings, timeout=30.0):
        self.base = settings.controller_url.rstrip("/") + "/v2/hooks/"
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers.update({"X-Deis-Builder-Auth": settings.builder_key, "User-Agent": USER_AGENT})

    def _call(self, method, path, timeout=None, **kwargs):
        try:
            response = self.http.request(method, self.base + path, timeout=timeout or self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ControllerError(f"the controller at {self.base} cannot be reached: {type(exc).__name__}") from None
        return response

    def user_for_key(self, fingerprint):
        """(username, [apps]) of the key's owner, or None for a key nobody has added."""
        response = self._call("GET", f"key/{fingerprint}")
        if response.status_code == 404:
            return None
        body = _body(response)
        return body["username"], list(body["apps"])

    def config(self, user, app):
        response = self._call("POST", "config", json={"receive_user": user, "receive_repo": app})
        return _body(response)

    def build(self, user, app, image, sha, procfile, dockerfile, timeout):
        """Records the build and waits for its release to deploy; returns the release version."""
        payload = {"receive_user": user, "receive_repo": app, "image": image, "sha": sha,
                   "procfile": procfile, "dockerfile": dockerfile}
        response = self._call("POST", "build", json=payload, timeout=timeout)
        return _body(response)["release"]["version"]


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
