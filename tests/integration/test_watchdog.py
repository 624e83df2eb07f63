"""The watchdog's round (operations.watch, every 10 s on beat): a job whose worker died is run again once, then
failed; a job no worker took is sent again, then failed naming its queue; everything else is left alone."""
import uuid
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import Operation
from core.models.base import utcnow
from core.services import operations
from core.services.operations import GIVE_UP_PENDING_SECONDS, MAX_ATTEMPTS, RESEND_AFTER_SECONDS
from workers.runners.watchdog import check_operations


@pytest.fixture
def sent(monkeypatch):
    """The operations the watchdog sends to their queue (no worker of this test takes them)."""
    uuids = []
    monkeypatch.setattr(operations, "send", lambda operation: uuids.append(str(operation.uuid)))
    return uuids


@pytest.fixture
def add(app, alice):
    app_uuid = uuid.UUID(alice.create_app("watched")["uuid"])

    def add(kind, state, seconds_since_sent=0, lease_seconds=None, attempts=0, sends=1):
        with app.app_context():
            operation = Operation(
                app_id="watched", app_uuid=app_uuid, kind=kind, state=state, attempts=attempts, sends=sends,
                sent=utcnow() - timedelta(seconds=seconds_since_sent),
                lease_until=None if lease_seconds is None else utcnow() + timedelta(seconds=lease_seconds))
            db.session.add(operation)
            db.session.commit()
            return str(operation.uuid)
    return add


def state_of(app, operation_uuid):
    with app.app_context():
        operation = db.session.get(Operation, uuid.UUID(operation_uuid))
        return operation.state, operation.sends, operation.error


def watch(app):
    with app.app_context():
        return check_operations()


def test_a_job_whose_worker_died_is_sent_again_once_then_failed(app, add, sent):
    first = add("scale", "running", lease_seconds=-5, attempts=1)
    assert watch(app) == {first: "sent again: its worker stopped"} and sent == [first]
    assert state_of(app, first)[:2] == ("pending", 2)

    last = add("scale", "running", lease_seconds=-5, attempts=MAX_ATTEMPTS)
    assert watch(app) == {last: "failed: its worker stopped"} and sent == [first]
    state, _, error = state_of(app, last)
    assert state == "failed" and f"stopped before it finished ({MAX_ATTEMPTS} attempts)" in error


def test_a_run_whose_worker_died_is_failed_never_run_twice(app, add, sent):
    run = add("run", "running", lease_seconds=-5, attempts=1)
    assert watch(app) == {run: "failed: its worker stopped"} and sent == []
    state, _, error = state_of(app, run)
    assert state == "failed" and "this command" in error and "may have been done in part" in error


def test_a_job_nothing_took_is_sent_again_then_failed_naming_its_queue(app, add, sent):
    lost = add("restart", "pending", seconds_since_sent=RESEND_AFTER_SECONDS + 5)
    assert watch(app) == {lost: "sent again: no worker took it yet"} and sent == [lost]
    assert state_of(app, lost)[:2] == ("pending", 2)

    never = add("scale", "pending", seconds_since_sent=GIVE_UP_PENDING_SECONDS + 5, sends=2)
    assert watch(app) == {never: "failed: never taken"}
    state, _, error = state_of(app, never)
    assert state == "failed" and "is a worker of the 'deploys' queue running?" in error


def test_jobs_in_good_health_are_left_alone(app, add, sent):
    leased = add("scale", "running", lease_seconds=30, attempts=1)
    fresh = add("restart", "pending", seconds_since_sent=1)
    sent_twice = add("scale", "pending", seconds_since_sent=RESEND_AFTER_SECONDS + 5, sends=2)  # not yet 10 min
    done = add("scale", "succeeded", seconds_since_sent=GIVE_UP_PENDING_SECONDS + 5, lease_seconds=-5)
    assert watch(app) == {} and sent == []
    assert [state_of(app, u)[0] for u in (leased, fresh, sent_twice, done)] == [
        "running", "pending", "pending", "succeeded"]
