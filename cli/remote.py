"""The app's git remote: reading which app a repository deploys to, and pointing it at the builder.

git is always run with an argument list, never through a shell.
"""
import re
import subprocess
from urllib.parse import urlsplit

from cli.client import CliError

REMOTE = "pier"
APP_NAME = re.compile(r"[a-z0-9-]+")


def _git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def in_repository():
    result = _git("rev-parse", "--is-inside-work-tree")
    return result is not None and result.returncode == 0 and result.stdout.strip() == "true"


def remote_url(name):
    if not in_repository():
        return None
    result = _git("remote", "get-url", name)
    if result is None or result.returncode != 0:
        return None
    return result.stdout.strip() or None


def app_from_url(url):
    """`ssh://git@host:2222/<app>.git` (or scp-style `git@host:<app>.git`) -> `<app>`; None otherwise."""
    if "://" in url:
        path = urlsplit(url).path
    elif ":" in url:
        path = url.split(":", 1)[1]
    else:
        return None
    name = path.strip("/")
    if name.endswith(".git"):
        name = name[:-4]
    return name if APP_NAME.fullmatch(name) else None


def app_from_remote(name=REMOTE):
    url = remote_url(name)
    return app_from_url(url) if url else None


def builder_url(controller, app, port):
    host = urlsplit(controller).hostname
    if ":" in host:
        host = f"[{host}]"
    return f"ssh://git@{host}:{port}/{app}.git"


def set_remote(name, url):
    """Adds or updates the remote; returns "added", "updated" or "unchanged"."""
    current = remote_url(name)
    if current == url:
        return "unchanged"
    args = ("remote", "set-url", name, url) if current is not None else ("remote", "add", name, url)
    result = _git(*args)
    if result is None or result.returncode != 0:
        reason = result.stderr.strip() if result is not None else "git is not installed"
        raise CliError(f"cannot set git remote {name}: {reason}")
    return "updated" if current is not None else "added"


def remove_remote_for(name, app):
    """Removes the remote if it points at `app`; True when it did."""
    if app_from_remote(name) != app:
        return False
    result = _git("remote", "remove", name)
    return result is not None and result.returncode == 0

