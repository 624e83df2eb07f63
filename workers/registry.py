"""Pier's registry over its HTTP API (Docker distribution): listing an app's tags and deleting its images.

Deleting a manifest makes the image unreadable at once; the registry's garbage collection frees its layers.
"""
import requests

MANIFEST_TYPES = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
))
TIMEOUT = 30


class RegistryError(Exception):
    pass


def base_url(registry):
    """'127.0.0.1:5000' -> 'http://127.0.0.1:5000': plain HTTP on loopback only, as Docker allows."""
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    loopback = host in ("localhost", "::1") or host.startswith("127.")
    return f"{'http' if loopback else 'https'}://{registry}"


class Registry:
    def __init__(self, settings):
        self.base = base_url(settings.registry)
        self.http = requests.Session()
        auth = settings.registry_auth()
        if auth:
            self.http.auth = (auth["username"], auth["password"])

    def _call(self, method, path, **kwargs):
        try:
            return self.http.request(method, f"{self.base}/v2/{path}", timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise RegistryError(f"the registry at {self.base} cannot be reached: {type(exc).__name__}") from None

    def tags(self, repository):
        answer = self._call("GET", f"{repository}/tags/list")
        if answer.status_code == 404:
            return []
        if answer.status_code != 200:
            raise RegistryError(f"listing {repository}'s tags answered {answer.status_code}")
        return sorted(answer.json().get("tags") or [])

    def digest(self, repository, tag):
        answer = self._call("HEAD", f"{repository}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES})
        if answer.status_code == 404:
            return None
        if answer.status_code != 200 or "Docker-Content-Digest" not in answer.headers:
            raise RegistryError(f"reading {repository}:{tag} answered {answer.status_code}")
        return answer.headers["Docker-Content-Digest"]

    def delete(self, repository, tag):
        """Deletes the image `repository:tag` (every tag of the same manifest goes with it)."""
        digest = self.digest(repository, tag)
        if digest is None:
            return False
        answer = self._call("DELETE", f"{repository}/manifests/{digest}")
        if answer.status_code not in (202, 404):
            raise RegistryError(f"deleting {repository}:{tag} answered {answer.status_code}")
        return True

    def delete_repository(self, repository):
        """Deletes every image of `repository`; returns the tags it deleted."""
        deleted = [tag for tag in self.tags(repository) if self.delete(repository, tag)]
        return deleted
