"""Talking to the controller: the saved profile, one requests session, and errors a user can act on."""
import codecs
import dataclasses
import json
import os
import re
import time
from urllib.parse import quote, unquote, urlsplit

import click
import requests

from cli import API_VERSION, VERSION

CONNECT_TIMEOUT = 10
READ_TIMEOUT = 600  # above the controller's PIER_SYNC_TIMEOUT: long operations answer within it
POLL_SECONDS = 1.0
NOT_LOGGED_IN = "not logged in; run pier login <url>"
UNAUTHENTICATED = {"Invalid token.", "Invalid token header.", "Authentication credentials were not provided."}
EXPIRED = "Token expired; log in again"


class CliError(click.ClickException):
    """Printed as one `Error: ...` line on stderr, exit code 1."""


@dataclasses.dataclass(frozen=True)
class ClientSettings:
    """The environment the client reads, read in this one place."""
    profile: str
    builder_port: int
    domain: str | None

    @classmethod
    def from_env(cls):
        profile = os.environ.get("PIER_PROFILE") or "client"
        if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", profile):
            raise CliError(f"PIER_PROFILE {profile!r} is not a valid profile name (letters, digits, . _ -)")
        port = os.environ.get("PIER_BUILDER_PORT") or "2222"
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise CliError(f"PIER_BUILDER_PORT {port!r} is not a port number")
        return cls(profile, int(port), os.environ.get("PIER_DOMAIN") or None)


def profile_path():
    name = ClientSettings.from_env().profile
    return os.path.join(os.path.expanduser("~"), ".pier", f"{name}.json")


def load_profile():
    path = profile_path()
    try:
        with open(path, encoding="utf-8") as f:
            profile = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path} ({exc}); run pier login <url> again") from None
    return profile if isinstance(profile, dict) else None


def save_profile(profile):
    path = profile_path()
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    temporary = path + ".tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(profile, f, indent=2)
        f.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def delete_profile():
    try:
        os.remove(profile_path())
        return True
    except FileNotFoundError:
        return False


def normalize_url(url):
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"{url} is not a controller URL; use e.g. http://pier.example.com")
    return url


def api_path(*parts, slash=True):
    """/v2/<parts>/ with each part URL-quoted; routes that end in a path converter take no trailing slash."""
    return "/v2/" + "/".join(quote(str(p), safe="") for p in parts) + ("/" if slash else "")


def _reason(exc):
    if isinstance(exc, requests.exceptions.Timeout):
        return "the connection timed out"
    text = str(exc)
    found = re.findall(r"\[Errno -?\d+\] ([^'\"\]\)]+)", text)
    if found:
        return found[-1].strip()
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error: " + text.rsplit(":", 1)[-1].strip(" ')\"")
    return text.rsplit(": ", 1)[-1].strip(" ')\"") or type(exc).__name__


def _messages(value):
    if isinstance(value, list):
        return " ".join(_messages(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_messages(v)}" for k, v in value.items())
    return str(value)


def describe(body):
    """The API's error body (a string, {"detail"} or {"field": [messages]}) as one line."""
    if isinstance(body, dict):
        parts = []
        for field, value in body.items():
            if field == "request_id":
                continue
            text = _messages(value)
            parts.append(text if field in ("detail", "non_field_errors") else f"{field}: {text}")
        message = "; ".join(parts)
        if body.get("request_id"):
            message += f" (request id {body['request_id']})"
        return message
    return _messages(body)


class Finished(dict):
    """What a long operation answered with when the controller handed it back as 202 and we waited for it."""


class Client:
    def __init__(self, controller, token=None, username=None):
        self.controller = normalize_url(controller)
        self.token, self.username = token, username
        self.session = requests.Session()
        self.warned = False

    @classmethod
    def from_profile(cls):
        profile = load_profile()
        if not profile or not profile.get("token") or not profile.get("controller"):
            raise CliError(NOT_LOGGED_IN)
        return cls(profile["controller"], profile["token"], profile.get("username"))

    def request(self, method, path, body=None, params=None, not_found=None, stream=False):
        headers = {"User-Agent": f"pier-cli/{VERSION}", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        try:
            response = self.session.request(method, self.controller + path, json=body, params=params,
                                            headers=headers, stream=stream, allow_redirects=False,
                                            timeout=(CONNECT_TIMEOUT, None if stream else READ_TIMEOUT))
        except requests.exceptions.RequestException as exc:
            raise CliError(f"cannot reach the controller at {self.controller}: {_reason(exc)}") from None
        self._check_version(response)
        if response.status_code >= 400:
            raise self._error(response, path, not_found)
        if response.status_code == 202 and response.headers.get("Location"):
            return self._wait(response.headers["Location"])
        return response

    def _check_version(self, response):
        theirs = response.headers.get("DEIS_API_VERSION")
        if theirs and theirs != API_VERSION and not self.warned:
            self.warned = True
            click.echo(f"Warning: the controller speaks API {theirs} and this client speaks {API_VERSION}; "
                       "some commands may not work as expected.", err=True)

    def _error(self, response, path, not_found):
        try:
            body = response.json()
        except ValueError:  # not the controller's JSON: a proxy's page, say
            text = response.text.strip()
            body = text if text and len(text) < 200 and not text.startswith("<") else response.reason
        message = describe(body)
        status = response.status_code
        if status == 401 and message in UNAUTHENTICATED:
            return CliError(f"not logged in (the controller refused the saved token); "
                            f"run pier login {self.controller}")
        if status == 401 and message == EXPIRED:
            return CliError(f"your login expired; run pier login {self.controller}")
        if status == 404:
            app = re.match(r"^/v2/apps/([^/]+)", path)
            if app and message == "No App matches the given query.":
                return CliError(f"app {unquote(app.group(1))} not found")
            if not_found:
                return CliError(f"{not_found} not found")
            named = re.fullmatch(r"No (\w+) matches the given query\.", message)
            return CliError(f"{named.group(1).lower()} not found" if named else message)
        if status == 403:
            return CliError(f"forbidden: {message}")
        if status >= 500:
            return CliError(f"the controller failed ({status}): {message}")
        return CliError(message)

    def _wait(self, location):
        """Polls the operation the controller answered 202 with until it finishes."""
        path = urlsplit(location).path
        click.echo(f"still running as operation {path.rstrip('/').rsplit('/', 1)[-1]}... ", nl=False, err=True)
        while True:
            operation = self.request("GET", path).json()
            if operation.get("state") == "succeeded":
                return Finished(operation)
            if operation.get("state") == "failed":
                raise CliError(operation.get("error") or f"{operation.get('kind', 'operation')} failed")
            time.sleep(POLL_SECONDS)

    def call(self, method, path, body=None, params=None, not_found=None):
        """The parsed JSON answer (None when empty), or a Finished operation."""
        response = self.request(method, path, body, params, not_found)
        if isinstance(response, Finished):
            return response
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    def stream_text(self, path, params=None):
        """The text of a (chunked) response as it arrives, or None when the controller answers 204."""
        response = self.request("GET", path, params=params, stream=True)
        if response.status_code == 204:
            response.close()
            return None

        def chunks():
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            try:
                for chunk in response.iter_content(chunk_size=None):
                    yield decoder.decode(chunk)
                yield decoder.decode(b"", final=True)
            except requests.exceptions.RequestException as exc:
                raise CliError(f"lost the connection to the controller at {self.controller}: {_reason(exc)}") \
                    from None
            finally:
                response.close()
        return chunks()

    def get(self, path, params=None, not_found=None):
        return self.call("GET", path, params=params, not_found=not_found)

    def post(self, path, body=None, not_found=None):
        return self.call("POST", path, body if body is not None else {}, not_found=not_found)

    def delete(self, path, body=None, not_found=None):
        return self.call("DELETE", path, body, not_found=not_found)

    def list(self, path, limit=None, not_found=None):
        """Every result of a paginated list (or the first `limit`), and the total count."""
        results, count = [], 0
        while True:
            size = min(limit - len(results), 100) if limit else 100
            page = self.get(path, params={"limit": size, "offset": len(results)}, not_found=not_found)
            results.extend(page["results"])
            count = page.get("count", len(results))
            if not page["results"] or page.get("next") is None or (limit and len(results) >= limit):
                return results, count
