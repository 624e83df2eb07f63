"""The workers count what they do: operations by kind and outcome with their durations, reconcile rounds and
the repairs they enqueue, and the newest backup (read here from the test process, where the session's worker
runs in a thread)."""
from datetime import datetime, timedelta, timezone

from prometheus_client import REGISTRY

from core.backups import Backup, BackupError

from core.extensions import db
from core.models import Operation
from tests.support.recording_scheduler import fail_next, installed
from tests.support.waiting import wait_for
from workers.runners import backups
from workers.runners.reconcile import reconcile_all
from workers.scheduler.memory import WORLD


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def counts():
    return {(kind, outcome): sample("pier_operations_total", kind=kind, outcome=outcome)
            for kind in ("deploy", "scale", "repair") for outcome in ("succeeded", "failed")}


def test_operations_are_counted_by_kind_and_outcome_with_their_durations(app, alice, worker):
    with installed(app):
        before, timed = counts(), sample("pier_operation_duration_seconds_count", kind="deploy", outcome="succeeded")
        alice.create_app("metrics-ops")
        assert alice.post("/v2/apps/metrics-ops/builds", {"image": "example/web:v1"}).status_code == 201
        assert alice.post("/v2/apps/metrics-ops/scale", {"cmd": 2}).status_code == 204
        fail_next("the engine went away", method="deploy")
        assert alice.post("/v2/apps/metrics-ops/builds", {"image": "example/web:v2"}).status_code == 400
        after = counts()
    assert {key: after[key] - before[key] for key in after if after[key] != before[key]} == {
        ("deploy", "succeeded"): 1, ("deploy", "failed"): 1, ("scale", "succeeded"): 1}
    assert sample("pier_operation_duration_seconds_count", kind="deploy", outcome="succeeded") - timed == 1


def test_a_reconcile_round_counts_the_repairs_it_enqueues(app, alice, worker):
    with installed(app):
        alice.create_app("metrics-drift")
        alice.post("/v2/apps/metrics-drift/builds", {"image": "example/web:v1"})
        rounds, repairs = sample("pier_reconcile_rounds_total"), sample("pier_reconcile_repairs_total")
        with app.app_context():
            assert reconcile_all() == []  # nothing drifted: a round, no repair
        WORLD.kill("metrics-drift.v2.cmd.1")
        with app.app_context():
            assert reconcile_all() == ["metrics-drift"]
        assert sample("pier_reconcile_rounds_total") - rounds == 2
        assert sample("pier_reconcile_repairs_total") - repairs == 1
        assert wait_for(lambda: repaired(app) == ["succeeded"])


def repaired(app):
    with app.app_context():
        states = list(db.session.execute(db.select(Operation.state).where(Operation.kind == "repair")).scalars())
        db.session.remove()
        return states


class Repository:
    """Stands in for pgBackRest: lists `found`, or cannot be read."""

    def __init__(self, found=None):
        self.found = found

    def list(self):
        if self.found is None:
            raise BackupError("the repository cannot be read")
        return self.found


def backup(label, end):
    return Backup(label=label, type="full", start=end - timedelta(minutes=5), end=end, size=1, repository_size=1,
                  wal_start="", wal_stop="", lsn_start="", lsn_stop="", prior=None)


def test_the_newest_backup_in_the_repository_is_the_last_success(app, monkeypatch):
    newest = datetime(2026, 5, 3, 3, 5, 40, tzinfo=timezone.utc)
    listed = [backup("20260426-030000F", newest - timedelta(days=7)), backup("20260503-030000F", newest)]
    monkeypatch.setattr(backups, "_backups", lambda settings, io_timeout=None: Repository(listed))
    backups.observe(app.config["PIER"])
    assert sample("pier_backup_last_success_timestamp_seconds") == newest.timestamp()
    monkeypatch.setattr(backups, "_backups", lambda settings, io_timeout=None: Repository(None))
    backups.observe(app.config["PIER"])  # a repository that cannot be read says nothing about the last backup
    assert sample("pier_backup_last_success_timestamp_seconds") == newest.timestamp()
