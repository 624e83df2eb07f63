"""Liveness: containers whose probe fails `failureThreshold` checks in a row are restarted."""
import logging

import redis
from flask import current_app

from api.extensions import db
from api.services import events
from workers.runners.reconcile import settled_apps
from workers.scheduler import SchedulerError, get_scheduler

log = logging.getLogger("pier.liveness")
FAILURES_KEY = "pier:liveness:{}"
DEFAULT_FAILURE_THRESHOLD = 3


def check_all():
    """One round of liveness checks over every app; returns the names of the containers it restarted."""
    settings = current_app.config["PIER"]
    scheduler = get_scheduler(settings)
    counts = redis.Redis.from_url(settings.redis_url)
    restarted = []
    for app, spec in settled_apps():
        if not any("livenessProbe" in (h or {}) for h in spec["healthcheck"].values()):
            continue
        for name, process_type in scheduler.failing_liveness(spec):
            probe = spec["healthcheck"][process_type]["livenessProbe"]
            failures = counts.incr(FAILURES_KEY.format(name))
            counts.expire(FAILURES_KEY.format(name), 3600)
            if failures < probe.get("failureThreshold", DEFAULT_FAILURE_THRESHOLD):
                continue
            try:
                scheduler.restart(app.id, name=name)
            except SchedulerError as exc:
                log.warning("could not restart %s: %s", name, exc)
                continue
            counts.delete(FAILURES_KEY.format(name))
            events.record(app, f"{name} restarted: its liveness probe failed {failures} times in a row")
            restarted.append(name)
    db.session.commit()
    return restarted
