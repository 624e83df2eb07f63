"""The port an image listens on, read from its registry (Docker Registry HTTP API v2): a cluster pulls images
itself, so Pier reads the image's configuration (`EXPOSE`) there, as Deis did, to set PORT when config has
none."""
import logging

import requests

from core import images
from workers.registry import MANIFEST_TYPES, base_url

log = logging.getLogger("pier.scheduler.kubernetes.images")
TIMEOUT = 10
DOCKER_HUB = "registry-1.docker.io"
INDEXES = ("application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json")


def reference(image):
    """'127.0.0.1:5000/hello:git-1a2b' -> ('127.0.0.1:5000', 'hello', 'git-1a2b'); 'python' ->
    ('registry-1.docker.io', 'library/python', 'latest')."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, image if "/" in image else f"library/{image}"
    if "@" in path:
        path, _, tag = path.partition("@")
    else:
        name, _, tag = path.rpartition(":")
        path, tag = (name, tag) if name and "/" not in tag else (path, "latest")
    return host, path, tag


def exposed_port(config):
    """The lowest exposed TCP port of an image configuration, or None."""
    exposed = (config.get("config") or {}).get("ExposedPorts") or {}
    tcp = sorted(int(p.split("/")[0]) for p in exposed if p.endswith("/tcp") or "/" not in p)
    return tcp[0] if tcp else None


class RegistryImages:
    def __init__(self, settings):
        self.settings = settings

    def port(self, image, credentials=None):
        """The image's exposed port, or None when it exposes none or its registry cannot tell. Pier's own
        registry is read with the platform's credentials, any other with the app's."""
        registry, _ = images.registry_and_repository(image)
        if images.is_platform_registry(registry, self.settings.registry) and self.settings.registry_auth():
            credentials = self.settings.registry_auth()
        try:
            return exposed_port(self.config(image, credentials or {}))
        except (requests.RequestException, ValueError, KeyError, LookupError) as exc:
            log.warning("cannot read the configuration of %s from its registry: %s", image, exc)
            return None

    def config(self, image, credentials):
        host, path, tag = reference(image)
        http = requests.Session()
        if credentials.get("username"):
            http.auth = (credentials["username"], credentials.get("password", ""))
        base = base_url(host) + "/v2/" + path

        def get(url, accept):
            answer = http.get(url, headers={"Accept": accept}, timeout=TIMEOUT)
            challenge = answer.headers.get("WWW-Authenticate", "")
            if answer.status_code == 401 and challenge.lower().startswith("bearer "):
                fields = dict(part.split("=", 1) for part in challenge[7:].split(",") if "=" in part)
                fields = {k.strip(): v.strip().strip('"') for k, v in fields.items()}
                token = http.get(fields.pop("realm"), params=fields, timeout=TIMEOUT).json()
                http.headers["Authorization"] = f"Bearer {token.get('token') or token.get('access_token')}"
                http.auth = None
                answer = http.get(url, headers={"Accept": accept}, timeout=TIMEOUT)
            if answer.status_code != 200:
                raise LookupError(f"{url} answered {answer.status_code}")
            return answer.json()

        manifest = get(f"{base}/manifests/{tag}", MANIFEST_TYPES)
        if manifest.get("mediaType") in INDEXES or "manifests" in manifest:
            chosen = next((m for m in manifest["manifests"] if (m.get("platform") or {}).get("architecture")
                           == "amd64" and (m.get("platform") or {}).get("os") == "linux"), manifest["manifests"][0])
            manifest = get(f"{base}/manifests/{chosen['digest']}", MANIFEST_TYPES)
        return get(f"{base}/blobs/{manifest['config']['digest']}", "*/*")
