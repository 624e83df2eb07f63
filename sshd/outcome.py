"""How the git hook tells the builder's session what became of a push.

git-receive-pack exits 0 even when its pre-receive hook declined the push (the client's `git push` fails, not
receive-pack), so the session cannot tell a deployed push from a refused one by the exit status it sees. It
names a file in the hook's environment; the hook writes `succeeded` or `failed` there as it ends, and the
session reads it when git-receive-pack has ended: `failed` from the hook's start until it succeeds, so a
hook that crashed counts as failed, and nothing when no hook ran (git had nothing new to take). Kept free of
heavy imports: the hook starts on every push.
"""
import os

VARIABLE = "PIER_PUSH_OUTCOME"
OUTCOMES = ("succeeded", "failed")


def write(path, succeeded):
    if path:
        with open(path, "w") as f:
            f.write(OUTCOMES[0] if succeeded else OUTCOMES[1])


def take(path):
    """What the hook wrote (None: no hook ran), and the file is gone."""
    try:
        with open(path) as f:
            written = f.read().strip()
        os.unlink(path)
    except FileNotFoundError:
        return None
    return written if written in OUTCOMES else None
