"""Runs an operation: loads its rows, calls the scheduler, records the outcome on the rows."""
import logging
import uuid

from flask import current_app

from api.extensions import db
from api.models import App, Operation, Release
from api.services import events
from api.services.operations import publish_finished
from api.services.releases import RELEASE_PHASE, structure_for, supersede_deployed
from workers.endpoints import Endpoints
from workers.runners.specs import release_spec
from workers.scheduler import SchedulerError, get_scheduler

log = logging.getLogger("pier.workers")


def execute(operation_uuid, runner):
    """Idempotent: a finished operation is left alone; a redelivered running one is run again."""
    settings = current_app.config["PIER"]
    operation = db.session.get(Operation, uuid.UUID(operation_uuid))
    if operation is None:
        log.warning("operation %s no longer exists", operation_uuid)
        return
    if operation.finished:
        return
    operation.state = "running"
    db.session.commit()
    try:
        operation.result = runner(operation, settings)
        operation.state = "succeeded"
    except SchedulerError as exc:
        db.session.rollback()
        operation.state, operation.error = "failed", str(exc)
        _after_failure(operation)
    except Exception as exc:  # recorded on the operation for the user, with the trace in the worker log
        db.session.rollback()
        log.exception("operation %s (%s) failed", operation.uuid, operation.kind)
        operation.state = "failed"
        operation.error = f"Internal error in {operation.kind} ({type(exc).__name__}); operation {operation.uuid}"
        _after_failure(operation)
    db.session.commit()
    publish_finished(settings.redis_url, operation.uuid, operation.state)


def _release(operation):
    return db.session.get(Release, uuid.UUID(operation.params["release"]))


def _after_failure(operation):
    if operation.kind != "deploy":
        return
    release = _release(operation)
    if release is None:
        return
    release.failed, release.state, release.exception = True, "failed", operation.error
    if operation.params.get("origin") == "config" and release.owner is not None:
        release.summary = f"{release.owner.username} deployed a config that failed"
    events.record(release.app, f"release v{release.version} failed: {operation.error}")


def deploy(operation, settings):
    release = _release(operation)
    app = release.app
    structure = structure_for(app.structure, release.build.procfile)
    scheduler, spec = get_scheduler(settings), release_spec(app, release)
    run_release_phase(scheduler, spec)
    scheduler.deploy(spec, structure)
    supersede_deployed(app)
    app.structure = structure
    release.state = "deployed"
    events.record(app, f"release v{release.version} deployed")
    return {"version": release.version}


def run_release_phase(scheduler, spec):
    """The Procfile's `release:` command runs once, as a one-off, before the release goes live."""
    command = spec["procfile"].get(RELEASE_PHASE)
    if not command:
        return
    exit_code, output = scheduler.run(spec, command)
    if exit_code != 0:
        tail = "\n".join(output.rstrip().splitlines()[-20:])
        raise SchedulerError(f"The release phase ({command}) failed with exit code {exit_code}:\n{tail}")


def scale(operation, settings):
    release = _release(operation)
    app = release.app
    structure = dict(app.structure)
    structure.update(operation.params["structure"])
    get_scheduler(settings).scale(release_spec(app, release), structure)
    app.structure = structure
    events.record(app, "scaled " + ", ".join(f"{k}={v}" for k, v in sorted(operation.params["structure"].items())))
    return {"structure": structure}


def restart(operation, settings):
    params = operation.params
    pods = get_scheduler(settings).restart(operation.app_id, params.get("type"), params.get("name"))
    return {"pods": pods}


def run(operation, settings):
    release = _release(operation)
    exit_code, output = get_scheduler(settings).run(release_spec(release.app, release), operation.params["command"])
    return {"exit_code": exit_code, "output": output}


def destroy(operation, settings):
    """Removes the containers, then the app's rows. An app that never ran a release needs no scheduler
    (a failed deploy removes what it started)."""
    app = db.session.get(App, operation.app_uuid)
    ever_ran = db.session.execute(
        db.select(Release.uuid).where(Release.app_uuid == operation.app_uuid, Release.build_uuid.is_not(None),
                                      Release.state.in_(("deployed", "superseded"))).limit(1)).first()
    if ever_ran:
        get_scheduler(settings).destroy(str(operation.app_uuid))
        Endpoints(settings.redis_url).clear(operation.app_id)
    if app is not None:
        db.session.delete(app)
    return {}
