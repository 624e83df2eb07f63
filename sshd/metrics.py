"""The builder's metrics: `git push`es by outcome, and how long they took, timed by the SSH session.

A push's work runs in its git hook (receive.py), a process that lives as long as the push; the session that
started `git-receive-pack` sees it start and end with its exit status, and outlives it, so it counts.
"""
from prometheus_client import Counter, Histogram
from twisted.internet import error

# a push includes its build and its deploy
BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1800)

PUSHES = Counter("pier_builder_pushes", "git pushes by outcome: succeeded, failed (the hook or git refused it), "
                 "cancelled (the client went away), unchanged (nothing new: no hook ran), refused (before git "
                 "ran: key, access, another push)", ["outcome"])
PUSH_SECONDS = Histogram("pier_builder_push_duration_seconds", "How long git pushes took, from git-receive-pack's "
                         "start to its end, including the build and the deploy", ["outcome"], buckets=BUCKETS)


def outcome_of(reason, hook_outcome):
    """succeeded, failed, cancelled or unchanged, from the Failure git-receive-pack ended with and what its
    hook wrote (sshd/outcome.py): receive-pack exits 0 when its hook declines a push."""
    value = getattr(reason, "value", None)
    if isinstance(value, error.ProcessTerminated) and value.exitCode is None:
        return "cancelled"  # killed by a signal: the session stopped it when its client went away
    if not isinstance(value, error.ProcessDone):
        return "failed"
    return hook_outcome or "unchanged"


def push_ended(outcome, seconds):
    PUSHES.labels(outcome).inc()
    PUSH_SECONDS.labels(outcome).observe(seconds)


def push_refused():
    PUSHES.labels("refused").inc()
