"""Liveness counts failures in a row: a passing check starts the count again, and one app whose check cannot
even run never keeps the others from being checked."""
import uuid
from types import SimpleNamespace

import redis

from core.extensions import db
from core.models import App
from workers.runners import liveness
from workers.scheduler import Pod, ReleaseSpec

PROBE = {"web": {"livenessProbe": {"httpGet": {"path": "/health", "port": 5000}, "failureThreshold": 2}}}


class Scripted:
    """A scheduler whose liveness checks fail as the test says, round after round."""

    def __init__(self, rounds):
        self.rounds, self.restarted = iter(rounds), []

    def failing_liveness(self, spec):
        failing = next(self.rounds)
        if failing == "raise":
            raise ValueError("Invalid header value b'a\\nb'")
        return [(name, "web") for name in failing]

    def pods(self, app_id):
        return [Pod(name=f"{app_id}.v2.web.1", type="web", release="v2", state="up")]

    def restart(self, spec, structure, process_type=None, name=None):
        self.restarted.append(name)
        return []


def app_and_spec(name):
    app = SimpleNamespace(id=name, uuid=uuid.uuid4(), structure={"web": 1})
    return app, ReleaseSpec(app=name, app_uuid=str(app.uuid), version=2, image="i", healthcheck=PROBE)


def test_occasional_failures_never_add_up_to_a_restart(ctx, app):
    counts = redis.Redis.from_url(app.config["PIER"].redis_url)
    flaky, spec = app_and_spec("flaky")
    pod = "flaky.v2.web.1"
    scheduler = Scripted([[pod], [], [pod], [], [pod], [pod]])
    for _ in range(5):
        assert liveness._check_app(scheduler, counts, flaky, spec) == []
    assert liveness._check_app(scheduler, counts, flaky, spec) == [pod]  # two in a row, at last
    assert scheduler.restarted == [pod]
    db.session.rollback()


def real_app_and_spec(name):
    row = db.session.execute(db.select(App).where(App.id == name)).scalar_one()
    return row, ReleaseSpec(app=name, app_uuid=str(row.uuid), version=2, image="i", healthcheck=PROBE)


def test_one_apps_broken_check_leaves_the_others_checked(app, alice, monkeypatch):
    alice.create_app("broken")
    alice.create_app("zzz-after-it")
    context = app.app_context()
    context.push()
    broken, broken_spec = real_app_and_spec("broken")
    healthy, healthy_spec = real_app_and_spec("zzz-after-it")
    scheduler = Scripted(["raise", ["zzz-after-it.v2.web.1"], ["zzz-after-it.v2.web.1"]])
    rounds = [[(broken, broken_spec), (healthy, healthy_spec)], [(healthy, healthy_spec)]]
    monkeypatch.setattr(liveness, "settled_apps", lambda: rounds.pop(0))
    monkeypatch.setattr(liveness, "scheduler_for", lambda settings: scheduler)
    try:
        assert liveness.check_all() == []
        assert liveness.check_all() == ["zzz-after-it.v2.web.1"]
        assert "liveness probe failed 2 times in a row" in alice.get("/v2/apps/zzz-after-it/logs").get_data(
            as_text=True)
    finally:
        db.session.remove()
        context.pop()


def test_one_apps_broken_data_leaves_reconcile_going_for_the_others(app, alice, monkeypatch):
    from workers.runners import reconcile
    for name in ("broken-spec", "broken-repair", "zzz-fine"):
        alice.create_app(name)

    def settled(row):
        if row.id == "broken-spec":
            raise ValueError("a release whose spec cannot be made")
        return ReleaseSpec(app=row.id, app_uuid=str(row.uuid), version=2, image="i")

    def repair(scheduler, endpoints, settings, row, spec, pods):
        if row.id == "broken-repair":
            raise ValueError("a drift check that cannot run")
        return True

    class Observing:
        def observe(self):
            return {}
    monkeypatch.setattr(reconcile, "settled", settled)
    monkeypatch.setattr(reconcile, "_repair", repair)
    monkeypatch.setattr(reconcile, "scheduler_for", lambda settings: Observing())
    with app.app_context():
        assert [row.id for row, _ in reconcile.settled_apps()] == ["broken-repair", "zzz-fine"]
        assert reconcile.reconcile_all() == ["zzz-fine"]
        db.session.remove()
