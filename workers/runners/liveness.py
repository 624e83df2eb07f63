"""Liveness: processes whose probe fails `failureThreshold` checks in a row are restarted."""
import logging

from flask import current_app

from core import redis_client
from core.extensions import db
from core.services import events
from workers.runners.operations import scheduler_for
from workers.runners.reconcile import settled_apps
from workers.scheduler import SchedulerError

log = logging.getLogger("pier.liveness")
FAILURES_KEY = "pier:liveness:{}"
DEFAULT_FAILURE_THRESHOLD = 3


def check_all():
    """One round of liveness checks over every app; returns the names of the processes it restarted. One
    app's failure (a probe that cannot even run) never keeps the others from being checked."""
    settings = current_app.config["PIER"]
    scheduler = scheduler_for(settings)
    counts = redis_client.client(settings.redis_url)
    restarted = []
    for app, spec in settled_apps():
        if not any("livenessProbe" in (h or {}) for h in spec.healthcheck.values()):
            continue
        try:
            restarted += _check_app(scheduler, counts, app, spec)
        except Exception:  # noqa: BLE001 - logged with its trace; the loop goes on with the next app
            log.exception("liveness check of %s failed", app.id)
    db.session.commit()
    return restarted


def _check_app(scheduler, counts, app, spec):
    restarted = []
    failing = dict(scheduler.failing_liveness(spec))
    for pod in scheduler.pods(app.id):
        if pod.name not in failing:
            counts.delete(FAILURES_KEY.format(pod.name))  # "in a row": a passing check starts the count again
    for name, process_type in failing.items():
        probe = spec.probe(process_type, "livenessProbe")
        failures = counts.incr(FAILURES_KEY.format(name))
        counts.expire(FAILURES_KEY.format(name), 3600)
        if failures < probe.get("failureThreshold", DEFAULT_FAILURE_THRESHOLD):
            continue
        try:
            scheduler.restart(spec, dict(app.structure), name=name)
        except SchedulerError as exc:
            log.warning("could not restart %s: %s", name, exc)
            continue
        counts.delete(FAILURES_KEY.format(name))
        events.record(app, f"{name} restarted: its liveness probe failed {failures} times in a row")
        restarted.append(name)
    return restarted
