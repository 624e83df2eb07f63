"""The router process: keeps nginx serving the platform's current routes.

    python -m router.sync

It re-renders on every endpoint change the scheduler publishes and at least once a second (domains and
settings), and touches nginx only when the rendered text changed.
"""
import logging
import os
import signal
import sys
import threading
import time

import redis
from sqlalchemy.exc import SQLAlchemyError

from core import redis_client
from core.app import process_app
from core.endpoints import CHANNEL, Endpoints
from core.extensions import db
from core.metrics import serve
from core.services.certificates import record_router_problems
from router.apply import Nginx, RouterConfigError
from router.certs import write_files
from router.isolate import Verdicts, apply_isolated
from router.metrics import RELOADS, MetricsLog
from router.render import render
from router.routes import attached_certificates, desired_routes

log = logging.getLogger("pier.router")
RECHECK_SECONDS = 1.0
ALIVE_SECONDS = 5  # how long a silent router still counts as running, for deploys waiting on it
REPLACED_SECONDS = 30  # as long, after a router whose parent died: the next one is on its way (the fleet's restart)
_reported = set()  # problems already logged, so that a bad config value is logged once, not every second
VERDICTS = Verdicts()  # nginx's verdicts on the tenants' certificates, for the life of the process


def report(problems):
    """Logs each problem the first time it is seen (again after it went away and came back)."""
    for problem in sorted(set(problems) - _reported):
        log.warning("%s", problem)
    _reported.clear()
    _reported.update(problems)


def publish(flask_app, judged, stored):
    """Stores the verdicts that changed on their certificates, which tells the apps concerned on their logs."""
    changed = {name: problem for name, problem in judged.items() if stored.get(name) != problem}
    if changed:
        with flask_app.app_context():
            record_router_problems(changed)
            db.session.remove()


def sync_once(flask_app, nginx, verdicts=VERDICTS):
    """Renders the current routes and applies them, leaving out the server blocks of the certificates nginx
    refuses; returns True when nginx was (re)loaded."""
    settings = flask_app.config["PIER"]
    runtime = os.path.abspath(settings.router_runtime)
    endpoints = Endpoints(settings.redis_url)
    version = endpoints.version()  # read first: the routes below include at least this version's changes
    with flask_app.app_context():
        routes = desired_routes(settings.domain, endpoints.read_all())
        certificates, stored = attached_certificates()
        db.session.remove()
    files_changed = write_files(runtime, certificates)
    options = dict(listen=settings.router_listen, tls_listen=settings.router_tls_listen, runtime=runtime)

    def draw(refused):
        return render(routes, body_size=f"{max(1, settings.max_body_bytes // (1024 * 1024))}m",
                      trusted_proxies=settings.router_trusted_proxies, refused=refused, **options)
    try:
        reloaded = apply_isolated(nginx, draw, certificates, verdicts, options, files_changed)
    finally:
        refused = verdicts.refused(certificates)
        report([problem for route in routes for problem in route["problems"]]
               + [f"certificate {name} left out: {problem}" for name, problem in sorted(refused.items())])
        publish(flask_app, verdicts.judged(certificates), stored)
    endpoints.routed(version)
    return reloaded


def wait_for_changes(pubsub, seconds=RECHECK_SECONDS):
    """Returns at the next endpoint change (or after `seconds`), having also taken every change queued behind
    it: one render covers them all, so a burst of deploys costs a few reloads, not one sync per message."""
    taken = 0
    if pubsub.get_message(timeout=seconds) is not None:
        taken = 1
        while pubsub.get_message(timeout=0) is not None:
            taken += 1
    return taken


def _stop(*_):
    """SIGTERM: exits through `finally`, which stops nginx. Only once: `make run`'s supervisor signals the fleet's
    whole group and the fleet passes the signal on, so the router gets two, and a second one raised inside that
    `finally` would leave nginx serving."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(0)


def main():
    flask_app = process_app()
    settings = flask_app.config["PIER"]
    nginx = Nginx(os.path.abspath(settings.router_runtime), settings.router_listen)
    signal.signal(signal.SIGTERM, _stop)
    parent = os.getppid()
    log.info("router listening on %s", settings.router_listen)
    serve(settings, "router")
    # always followed, metrics endpoint or not: it is also what keeps nginx's metrics log from growing
    metrics_log = MetricsLog(nginx.runtime, nginx.reopen_logs)
    threading.Thread(target=metrics_log.follow, args=(threading.Event(),), daemon=True, name="metrics-log").start()
    endpoints = Endpoints(settings.redis_url)
    pubsub = None
    try:
        while True:
            try:
                if pubsub is None:
                    pubsub = redis_client.client(settings.redis_url).pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(CHANNEL)
                endpoints.router_alive(ALIVE_SECONDS)
                if sync_once(flask_app, nginx):
                    RELOADS.inc()
                    log.info("nginx reloaded with new routes")
                wait_for_changes(pubsub)
            except RouterConfigError as exc:
                log.error("%s; the last good configuration keeps serving", exc)
                time.sleep(RECHECK_SECONDS)
            except (redis.RedisError, SQLAlchemyError, OSError) as exc:
                # Redis or PostgreSQL is away (a restart, a failover): nginx keeps serving the last routes
                log.error("cannot read the routes (%s: %s); the last good configuration keeps serving",
                          type(exc).__name__, exc)
                pubsub = None
                time.sleep(RECHECK_SECONDS)
    finally:
        if os.getppid() == parent:
            nginx.stop()
        else:  # what started the router died (the workers' fleet: its children get SIGTERM with it)
            log.warning("the router's parent is gone: nginx serves on, and the next router takes it over")
            try:  # deploys keep waiting for the next router to route their release before stopping the old one
                endpoints.router_alive(REPLACED_SECONDS)
            except redis.RedisError:
                pass  # no broker: no deploy can wait on it either


if __name__ == "__main__":
    main()
