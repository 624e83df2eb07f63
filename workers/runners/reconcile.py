"""The reconcile loop: desired state (database) against what the scheduler observes; drift is repaired.

It also records every app's pods for `ps` and republishes the endpoints of what really serves, so the
router's routes can always be rebuilt from the scheduler (after Redis lost its data, or a process died)."""
import logging

from flask import current_app

from core.endpoints import Endpoints
from core.extensions import db
from core.models import App
from core.pods import PodStates
from core.services import apps, operations
from workers import metrics
from workers.runners.operations import scheduler_for
from workers.runners.specs import release_spec, running_release

log = logging.getLogger("pier.reconcile")


def settled(app):
    """The spec of the app's deployed release, or None when it runs none or a job is in progress or still
    settling (apps with a job are left to that job: a deploy's old processes draining are not strays)."""
    release = running_release(app)
    if release is None or operations.active(app, tuple(operations.KINDS)) or operations.settling(app):
        return None
    return release_spec(app, release)


def settled_apps():
    """(app, spec) for every settled app. One app whose spec cannot be made (its data broken) is logged and
    left out: it never keeps the apps after it from being checked."""
    for app in db.session.execute(db.select(App).order_by(App.id)).scalars():
        try:
            spec = settled(app)
        except Exception:  # noqa: BLE001 - logged with its trace; the round goes on with the next app
            log.exception("could not make the spec of %s", app.id)
            db.session.rollback()
            continue
        if spec is not None:
            yield app, spec


def reconcile_all():
    """One round over every app; returns the ids of the apps it sent a repair for."""
    settings = current_app.config["PIER"]
    scheduler, endpoints = scheduler_for(settings), Endpoints(settings.redis_url)
    observed = scheduler.observe()
    known = set(db.session.execute(db.select(App.id)).scalars())
    PodStates(settings.redis_url).write_all({app: [p.as_api() for p in pods] for app, pods in observed.items()
                                             if app in known}, known_apps=known)
    for gone in set(endpoints.read_all()) - known:
        endpoints.clear(gone)
    repaired = []
    for app, spec in settled_apps():
        try:
            if _repair(scheduler, endpoints, settings, app, spec, observed.get(app.id, [])):
                repaired.append(app.id)
        except Exception:  # noqa: BLE001 - one app's failure never stops the round for the others
            log.exception("reconciling %s failed", app.id)
            db.session.rollback()
    db.session.rollback()
    metrics.reconcile_round()
    return repaired


def reconcile_app(app_id):
    """The same for one app, right after its processes changed (the watcher saw a container die)."""
    settings = current_app.config["PIER"]
    app = db.session.execute(db.select(App).where(App.id == app_id)).scalar_one_or_none()
    spec = settled(app) if app is not None else None
    repaired = False
    if spec is not None:
        scheduler = scheduler_for(settings)
        pods = scheduler.pods(app_id)
        PodStates(settings.redis_url).write(app_id, [p.as_api() for p in pods])
        repaired = _repair(scheduler, Endpoints(settings.redis_url), settings, app, spec, pods)
    db.session.rollback()
    return repaired


def _repair(scheduler, endpoints, settings, app, spec, pods):
    """Enqueues a redeploy in place (a `repair` operation) when the app's processes drifted; else makes its
    endpoints those that really serve."""
    pods = [p for p in pods if p.app_uuid in ("", spec.app_uuid)]  # not a same-named app's leftovers
    reasons = scheduler.drift(spec, dict(app.structure), pods)
    if reasons:
        log.info("%s drifted from v%s at %s: %s", app.id, spec.version, app.structure, "; ".join(reasons))
        enqueued = apps.repair(app, reasons) is not None
        if enqueued:
            metrics.repair_enqueued()
        return enqueued
    wanted = scheduler.endpoints(spec, pods)
    if endpoints.read(app.id) != wanted and not operations.active(app, tuple(operations.KINDS)):
        endpoints.publish(app.id, wanted)
        log.info("republished the endpoints of %s: %s", app.id, wanted)
    return False
