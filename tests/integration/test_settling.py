"""A deploy answers once its release is live; its old processes drain and stop after that (the operation
"settles"). Meanwhile the app's next job waits and reconcile leaves the draining processes alone; a worker
that died while settling is forgotten when its lease runs out."""
from datetime import timedelta

from sqlalchemy import func

from core.extensions import db
from core.models import App, Operation
from core.services import operations
from workers.runners import reconcile
from tests.support import deploy_image
from tests.support.waiting import wait_for
from tests.support.recording_scheduler import recording_scheduler  # noqa: F401


def _app(app_id):
    return db.session.execute(db.select(App).where(App.id == app_id)).scalar_one()


def _settling_deploy(app_id, seconds):
    """A deploy of the app that succeeded and keeps its lease `seconds` more (negative: ran out)."""
    app = _app(app_id)
    operation = operations.add(app, None, "deploy", release="")
    operation.state, operation.lease_until = "succeeded", func.now() + timedelta(seconds=seconds)
    db.session.commit()
    return operation


def _pending(app_id, kind):
    operation = operations.add(_app(app_id), None, kind)
    db.session.commit()
    return str(operation.uuid)


def test_the_next_job_of_the_app_waits_while_a_deploy_settles(app, alice):
    alice.create_app("calm")
    alice.create_app("other")
    with app.app_context():
        deploy = _settling_deploy("calm", 30)
        scale = _pending("calm", "scale")
        claimed, wait = operations.begin(scale)
        assert claimed is None and 0 < wait <= operations.SETTLING_POLL_SECONDS
        # a one-off run does not touch the app's processes, and another app is not held up
        assert operations.begin(_pending("calm", "run"))[0] is not None
        assert operations.begin(_pending("other", "scale"))[0] is not None

        operations.settled(deploy)
        claimed, wait = operations.begin(scale)
        assert claimed is not None and claimed.state == "running" and wait is None


def test_a_settle_whose_worker_died_holds_nothing(app, alice):
    alice.create_app("calm")
    with app.app_context():
        _settling_deploy("calm", -1)
        assert not operations.settling(_app("calm"))
        claimed, _ = operations.begin(_pending("calm", "scale"))
        assert claimed is not None


def test_reconcile_leaves_a_settling_app_alone(app, alice, recording_scheduler):  # noqa: F811
    alice.create_app("calm")
    deploy_image(alice, "calm")
    with app.app_context():
        assert reconcile.settled(_app("calm")) is not None
        deploy = _settling_deploy("calm", 30)
        assert reconcile.settled(_app("calm")) is None, "reconcile would take the draining processes for strays"
        operations.settled(deploy)
        assert reconcile.settled(_app("calm")) is not None


def test_a_deploy_through_a_worker_settles_and_lets_go(app, alice, recording_scheduler):  # noqa: F811
    alice.create_app("calm")
    deploy_image(alice, "calm")
    deploy_image(alice, "calm")
    with app.app_context():
        def leases():
            found = db.session.execute(db.select(Operation.state, Operation.lease_until).where(
                Operation.app_id == "calm", Operation.kind == "deploy")).all()
            db.session.rollback()
            return found
        assert {state for state, _ in leases()} == {"succeeded"}
        assert wait_for(lambda: all(lease is None for _, lease in leases())), "the lease outlived the after-work"
        assert not operations.settling(_app("calm"))
