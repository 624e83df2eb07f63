"""The bare repositories pushes land in, each with Pier's pre-receive hook."""
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def path_for(git_root, app):
    return Path(git_root).resolve() / f"{app}.git"


def has_commits(git_root, app):
    repo = path_for(git_root, app)
    return (repo / "packed-refs").exists() or any((repo / "refs" / "heads").glob("*"))


def hook_text():
    # Only our own interpreter and source paths go in here, never anything a user sent. The stub runs
    # sshd.receive through the builder's hook server, or itself without one (see sshd/hook_stub.py).
    python, stub = shlex.quote(sys.executable), shlex.quote(str(PACKAGE_ROOT / "sshd" / "hook_stub.py"))
    return ("#!/bin/sh\n"
            "# Pier's build step: written by the builder, overwritten on every push.\n"
            f"exec {python} -I -S {stub}\n")


def owner_of(repo):
    """The uuid of the app a repository was made for ("" for one made before Pier recorded it)."""
    found = subprocess.run(["git", "config", "--file", str(repo / "config"), "--get", "pier.app-uuid"],
                           capture_output=True, text=True)
    return found.stdout.strip()


def ensure(git_root, app, app_uuid):
    """The app's bare repository, created on first push; the hook is rewritten so it follows upgrades. A
    repository left by an earlier app of the same name (another uuid) is removed first: a new owner never
    sees, clones or builds on the old one's source."""
    repo = path_for(git_root, app)
    if (repo / "HEAD").exists() and owner_of(repo) != app_uuid:
        shutil.rmtree(repo)
    if not (repo / "HEAD").exists():
        repo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--bare", "--quiet", "--initial-branch=main", str(repo)], check=True)
        subprocess.run(["git", "config", "--file", str(repo / "config"), "pier.app-uuid", app_uuid], check=True)
    hook = repo / "hooks" / "pre-receive"
    text = hook_text()
    if not hook.exists() or hook.read_text() != text:
        temporary = hook.with_suffix(".new")
        temporary.write_text(text)
        os.chmod(temporary, 0o755)
        os.replace(temporary, hook)
    return repo


def remove(git_root, app, app_uuid):
    """Removes the app's repository if it was made for that app (not for a newer app of the same name)."""
    repo = path_for(git_root, app)
    if (repo / "HEAD").exists() and owner_of(repo) in (app_uuid, ""):
        shutil.rmtree(repo)
        return True
    return False


def every(git_root):
    """(app, recorded uuid) of every repository under the git root."""
    root = Path(git_root).resolve()
    if not root.is_dir():
        return []
    return [(repo.name[:-len(".git")], owner_of(repo)) for repo in sorted(root.glob("*.git"))
            if (repo / "HEAD").exists()]
