"""The router process: keeps nginx serving the platform's current routes.

    python -m router.sync

It re-renders on every endpoint change the scheduler publishes and at least once a second (domains and
settings), and touches nginx only when the rendered text changed.
"""
import logging
import os
import signal
import sys

import redis

from api import create_app
from api.extensions import db
from router.apply import Nginx, RouterConfigError
from router.render import render
from router.certs import write_files
from router.routes import certificate_files, desired_routes
from workers.endpoints import CHANNEL, Endpoints

log = logging.getLogger("pier.router")
RECHECK_SECONDS = 1.0


def sync_once(flask_app, nginx):
    """Renders the current routes and applies them; returns True when nginx was (re)loaded."""
    settings = flask_app.config["PIER"]
    runtime = os.path.abspath(settings.router_runtime)
    with flask_app.app_context():
        routes = desired_routes(settings.domain, Endpoints(settings.redis_url).read_all())
        certificates = certificate_files()
        db.session.remove()
    files_changed = write_files(runtime, certificates)
    text = render(routes, listen=settings.router_listen, tls_listen=settings.router_tls_listen, runtime=runtime,
                  body_size=f"{max(1, settings.max_body_bytes // (1024 * 1024))}m",
                  trusted_proxies=settings.router_trusted_proxies)
    return nginx.apply(text, files_changed)


def main():
    flask_app = create_app()
    settings = flask_app.config["PIER"]
    nginx = Nginx(os.path.abspath(settings.router_runtime), settings.router_listen)
    pubsub = redis.Redis.from_url(settings.redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that `finally` stops nginx
    log.info("router listening on %s", settings.router_listen)
    try:
        while True:
            try:
                if sync_once(flask_app, nginx):
                    log.info("nginx reloaded with new routes")
            except RouterConfigError as exc:
                log.error("%s; the last good configuration keeps serving", exc)
            pubsub.get_message(timeout=RECHECK_SECONDS)
    finally:
        nginx.stop()


if __name__ == "__main__":
    main()
