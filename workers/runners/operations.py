"""Runs an operation: loads its rows, calls the scheduler, records the outcome through the core's services."""
import logging
import shutil
import time
import uuid

from flask import current_app
from sqlalchemy.exc import DBAPIError

from core.backups import BackupError
from core.builder_events import forget
from core.endpoints import Endpoints
from core.extensions import db
from core.logs import LogStore
from core.models import App, Release
from core.pods import PodStates
from core.services import apps, events, operations, releases
from core.services.releases import RELEASE_PHASE, structure_for
from core.storage import StorageError, store_for
from core.storage.keys import app_prefix
from workers import metrics
from workers.build.images import remove_app_images
from workers.runners.build import cache_folder
from workers.registry import Registry, RegistryError
from workers.runners.specs import release_spec, running_release
from workers.scheduler import SchedulerError, get_scheduler

log = logging.getLogger("pier.workers")


def scheduler_for(settings):
    """The configured scheduler, handing its endpoints to the router through Redis."""
    return get_scheduler(settings, routing=Endpoints(settings.redis_url))


IN_PROCESS = []  # the operations this process works on now, after-work included (tests wait for none)


def execute(task, operation_uuid, runner):
    """Idempotent: a finished operation is left alone; one another worker holds is asked for again once that
    worker's lease runs out (it may have died: the job is then run again and converges)."""
    IN_PROCESS.append(operation_uuid)
    try:
        _execute(task, operation_uuid, runner)
    finally:
        IN_PROCESS.remove(operation_uuid)


def _execute(task, operation_uuid, runner):
    operation, wait = operations.begin(operation_uuid)
    if wait is not None:
        raise task.retry(countdown=wait)
    if operation is None:
        return
    kind, started, outcome = operation.kind, time.monotonic(), "failed"
    with operations.lease(operation):
        try:
            result = runner(operation, current_app.config["PIER"])
        except (SchedulerError, BackupError, RegistryError, StorageError) as exc:  # the user reads these as they are
            fail(operation, str(exc))
        except DBAPIError as exc:
            if exc.connection_invalidated:
                # the database went away mid-job: nothing can be recorded now; the lease runs out and the
                # watchdog runs the job again, which converges
                log.warning("operation %s (%s) lost its database connection; it will run again",
                            operation.uuid, operation.kind)
                raise
            _internal_error(operation, exc)
        except Exception as exc:  # recorded on the operation for the user, with the trace in the worker log
            _internal_error(operation, exc)
        else:
            settle = settle_seconds(current_app.config["PIER"]) if getattr(operation, "afterwards", None) else 0
            operations.finish(operation, result=result, settle_seconds=settle)
            outcome = "succeeded"
        metrics.operation_finished(kind, outcome, time.monotonic() - started)  # until the user has the outcome
        if outcome == "succeeded" and settle:
            _afterwards(operation)
            operations.settled(operation)


SETTLE_MARGIN_SECONDS = 30


def settle_seconds(settings):
    """How long after-work may take at most (drain, then each old process's stop grace, with a margin):
    reconcile leaves the app alone that long unless the work ends sooner."""
    return settings.drain_seconds + settings.stop_grace_seconds + SETTLE_MARGIN_SECONDS


def _afterwards(operation):
    """What a job left for after its outcome (a deploy's draining and stopping of the old processes): the
    user has their answer already; a failure here goes to the app's log, and reconcile repairs what is left."""
    for action, what in getattr(operation, "afterwards", ()):
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - recorded for the user; reconcile removes leftovers
            log.exception("after operation %s: %s failed", operation.uuid, what)
            db.session.rollback()
            app = db.session.get(App, operation.app_uuid) if operation.app_uuid else None
            if app is not None:
                events.record(app, f"{what} failed ({type(exc).__name__}: {exc}); reconcile will remove what is left")
                db.session.commit()


def later(operation, action, what):
    """Runs `action` once the operation's outcome is recorded and announced."""
    if not hasattr(operation, "afterwards"):
        operation.afterwards = []
    operation.afterwards.append((action, what))


def _internal_error(operation, exc):
    db.session.rollback()  # a failed statement leaves the transaction unusable, even to read the operation
    log.exception("operation %s (%s) failed", operation.uuid, operation.kind)
    fail(operation, f"Internal error in {operation.kind} ({type(exc).__name__}); operation {operation.uuid}")


def fail(operation, error):
    """Records a failure; a failed deploy marks its release failed (the previous one keeps serving)."""
    db.session.rollback()
    if operation.kind == "deploy":
        release = _release(operation)
        if release is not None:
            releases.mark_failed(release, error, operation.params.get("origin"))
    operations.finish(operation, error=error)


def _release(operation):
    return db.session.get(Release, uuid.UUID(operation.params["release"]))


def _observed(scheduler, settings, app_id):
    """Records the app's pods as the scheduler sees them now, for `ps`."""
    PodStates(settings.redis_url).write(app_id, [p.as_api() for p in scheduler.pods(app_id)])


def deploy(operation, settings):
    release = _release(operation)
    app = release.app
    structure = structure_for(app.structure, release.build.procfile)
    scheduler, spec = scheduler_for(settings), release_spec(app, release)
    run_release_phase(scheduler, spec)
    try:
        leftovers = scheduler.deploy(spec, structure, retire=False)
    finally:
        _observed(scheduler, settings, app.id)
    releases.mark_deployed(app, release, structure)
    later(operation, lambda: _retire(scheduler, settings, app.id, leftovers),
          f"stopping what ran before v{release.version}")
    return {"version": release.version, "timings": {step: round(s, 3) for step, s in scheduler.spent.items()}}


def _retire(scheduler, settings, app_id, leftovers):
    """The deploy is live and answered; the old processes drain and stop now."""
    if leftovers:
        scheduler.retire(leftovers)
        _observed(scheduler, settings, app_id)


def run_release_phase(scheduler, spec):
    """The Procfile's `release:` command runs once, as a one-off, before the release goes live."""
    command = spec.command(RELEASE_PHASE)
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
    scheduler = scheduler_for(settings)
    try:
        leftovers = scheduler.scale(release_spec(app, release), structure, retire=False)
    finally:
        _observed(scheduler, settings, app.id)
    releases.record_scale(app, operation.params["structure"], structure)
    later(operation, lambda: _retire(scheduler, settings, app.id, leftovers), "stopping the processes scaled away")
    return {"structure": structure}


def restart(operation, settings):
    app = db.session.get(App, operation.app_uuid)
    release = running_release(app) if app is not None else None
    params = operation.params
    if release is None:
        if params.get("type") or params.get("name"):
            raise SchedulerError(f"No pods of {operation.app_id} match {params.get('name') or params.get('type')}.")
        return {"pods": []}
    scheduler = scheduler_for(settings)
    try:
        pods = scheduler.restart(release_spec(app, release), dict(app.structure), params.get("type"),
                                 params.get("name"))
    finally:
        _observed(scheduler, settings, app.id)
    return {"pods": [p.as_api() for p in pods]}


def run(operation, settings):
    release = _release(operation)
    exit_code, output = get_scheduler(settings).run(release_spec(release.app, release), operation.params["command"])
    return {"exit_code": exit_code, "output": output}


def destroy(operation, settings):
    """Removes everything of the app, then its rows: its processes, routes, recorded pods and logs, stored
    sources, slugs and build cache, its images in the registry and the engine, and its git repository (the
    builder is told). Anything that cannot be removed fails the destroy, and the app stays to try again."""
    app = db.session.get(App, operation.app_uuid)
    app_id, app_uuid = operation.app_id, str(operation.app_uuid)
    ever_ran = db.session.execute(
        db.select(Release.uuid).where(Release.app_uuid == operation.app_uuid, Release.build_uuid.is_not(None),
                                      Release.state.in_(("deployed", "superseded"))).limit(1)).first()
    if ever_ran:
        scheduler_for(settings).destroy(app_id, app_uuid)
    Endpoints(settings.redis_url).clear(app_id)
    PodStates(settings.redis_url).forget(app_id)
    LogStore(settings.redis_url).forget(app_id)
    try:
        store_for(settings).delete_prefix(app_prefix(app_id))
        registry_tags = Registry(settings).delete_repository(app_id)
    except (StorageError, RegistryError) as exc:
        raise SchedulerError(f"{app_id} could not be removed completely ({exc}); destroy it again.") from None
    images = remove_app_images(settings, app_id)
    shutil.rmtree(cache_folder(settings, app_uuid), ignore_errors=True)
    forget(settings.redis_url, app_id, app_uuid)
    if app is not None:
        apps.remove(app)
    return {"registry_tags": registry_tags, "engine_images": images}


def repair(operation, settings):
    """Redeploys the app's running release in place at its structure: what reconcile asks for when the
    processes drifted (a container died or was removed, one of another release lingers)."""
    app = db.session.get(App, operation.app_uuid)
    release = running_release(app) if app is not None else None
    if release is None:
        return {}
    scheduler = scheduler_for(settings)
    try:
        scheduler.deploy(release_spec(app, release), dict(app.structure))
    finally:
        _observed(scheduler, settings, app.id)
    releases.record_repair(app, release, operation.params.get("reasons") or [])
    return {"version": release.version}
