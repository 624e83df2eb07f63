"""The bare repositories pushes land in, each with Pier's pre-receive hook."""
import os
import shlex
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
    # Only our own interpreter and source paths go in here, never anything a user sent.
    python, root = shlex.quote(sys.executable), shlex.quote(str(PACKAGE_ROOT))
    return ("#!/bin/sh\n"
            "# Pier's build step: written by the builder, overwritten on every push.\n"
            f"PYTHONPATH={root}${{PYTHONPATH:+:$PYTHONPATH}} exec {python} -u -m sshd.receive\n")


def ensure(git_root, app):
    """The app's bare repository, created on first push; the hook is rewritten so it follows upgrades."""
    repo = path_for(git_root, app)
    if not (repo / "HEAD").exists():
        repo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--bare", "--quiet", "--initial-branch=main", str(repo)], check=True)
    hook = repo / "hooks" / "pre-receive"
    text = hook_text()
    if not hook.exists() or hook.read_text() != text:
        temporary = hook.with_suffix(".new")
        temporary.write_text(text)
        os.chmod(temporary, 0o755)
        os.replace(temporary, hook)
    return repo
