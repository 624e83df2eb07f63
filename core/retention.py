"""Which builds garbage collection keeps: a pure function of an app's releases.

An app keeps the builds its newest `keep_last` releases reference (every release counts, config changes and
failed deploys too), plus the builds it needs to keep running and to go back: its running release's, its
newest good release's (the build a config change deploys) and that of the release a plain `rollback`
picks (the one before the newest). Everything else may be collected.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class ReleaseFacts:
    version: int
    build: object  # the build's id, or None for a release without one (an app's v1, config before a build)
    state: str     # pending, deployed, failed or superseded
    failed: bool


def kept_builds(releases, keep_last):
    """The ids of the builds to keep, given every release of one app (in any order)."""
    newest = sorted(releases, key=lambda r: r.version, reverse=True)
    kept = {r.build for r in newest[:keep_last]}
    running = next((r for r in newest if r.state == "deployed" and r.build is not None), None)
    good = next((r for r in newest if not r.failed), None)
    rollback_target = newest[1] if len(newest) > 1 else None
    kept.update(r.build for r in (running, good, rollback_target) if r is not None)
    kept.discard(None)
    return kept
