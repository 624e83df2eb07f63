"""Pier's registry over its HTTP API (Docker distribution): listing an app's tags and deleting its images;
and the registry's own garbage collection, which frees the layers no manifest uses any more.

Deleting a manifest makes the image unreadable at once; the registry's garbage collection frees its layers.
"""
import os
import re
import subprocess
from pathlib import Path

import requests
import yaml

MANIFEST_TYPES = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
))
TIMEOUT = 30
ROOT = Path(__file__).resolve().parents[1]
EMPTY = re.compile(r"Path not found: \S*/docker/registry/v2/repositories\b")
SWEPT = re.compile(r"(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion")


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
        self.delete_manifest(repository, digest)
        return True

    def delete_manifest(self, repository, digest):
        """Deletes the manifest `digest`: every tag of it goes, and pulls of them answer 404 at once."""
        answer = self._call("DELETE", f"{repository}/manifests/{digest}")
        if answer.status_code not in (202, 404):
            raise RegistryError(f"deleting {repository}@{digest} answered {answer.status_code}")

    def delete_repository(self, repository):
        """Deletes every image of `repository`; returns the tags it deleted."""
        deleted = [tag for tag in self.tags(repository) if self.delete(repository, tag)]
        return deleted


def config_path(settings):
    """The registry's config.yml (PIER_REGISTRY_CONFIG; a relative path is the project's, as `make run`'s
    var/ is), or None when this machine has none to collect with."""
    if not settings.registry_config:
        return None
    path = Path(settings.registry_config)
    return path if path.is_absolute() else ROOT / path


def garbage_collect(config, timeout):
    """Runs distribution's mark and sweep over the registry's storage (`docker-registry garbage-collect`):
    blobs that no manifest references are deleted. It must not run while anything pushes to the registry (a
    layer uploaded before its manifest would be swept). Returns (blobs marked, blobs deleted)."""
    # distribution's S3 driver panics on AWS_CA_BUNDLE, as scripts/platform.sh says
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    try:
        done = subprocess.run(["docker-registry", "garbage-collect", str(config)], capture_output=True,
                              text=True, timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RegistryError(f"the registry's garbage collection could not run: {exc}") from None
    output = done.stdout + done.stderr
    if done.returncode != 0 and EMPTY.search(output):
        return 0, 0  # nothing was ever pushed: distribution fails to list the repositories it has none of
    swept = SWEPT.search(output)
    if done.returncode != 0 or swept is None:
        tail = " ".join(output.strip().splitlines()[-3:])[-500:]
        raise RegistryError(f"the registry's garbage collection failed (exit {done.returncode}): {tail}")
    return int(swept.group(1)), int(swept.group(2))


def data_folder(config):
    """The folder the registry keeps its layers in, or None when it keeps them elsewhere (S3)."""
    try:
        storage = (yaml.safe_load(Path(config).read_text()) or {}).get("storage") or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"the registry's config {config} cannot be read: {exc}") from None
    folder = (storage.get("filesystem") or {}).get("rootdirectory")
    return Path(folder) if folder else None


def folder_bytes(folder):
    """The bytes of the files beneath `folder` (0 when it does not exist)."""
    total = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(parent, name)).st_size
            except FileNotFoundError:
                pass
    return total
