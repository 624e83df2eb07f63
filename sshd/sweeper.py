"""Removing the git repositories of destroyed apps: at once when the controller's destroy job says so
(core.builder_events), and on start for any the builder missed while it was down."""
import json
import logging
import time

import redis

from core import redis_client
from core.builder_events import CHANNEL
from sshd import repos
from sshd.controller import ControllerError

log = logging.getLogger("pier.builder.sweeper")
RETRY_SECONDS = 5


def sweep(settings, controller):
    """Removes every repository whose app is gone or was replaced by a new app of the same name."""
    current = controller.apps()
    removed = []
    for app, recorded in repos.every(settings.git_root):
        if current.get(app) != recorded and repos.remove(settings.git_root, app, recorded):
            removed.append(app)
    return removed


def listen(settings, controller, stop):
    """Runs until `stop` is set: a sweep, then one removal per message, reconnecting when Redis goes away."""
    swept = False
    while not stop.is_set():
        try:
            if not swept:
                for app in sweep(settings, controller):
                    log.info("removed the git repository of %s: the app is gone", app)
                swept = True
            subscription = redis_client.client(settings.redis_url).pubsub(ignore_subscribe_messages=True)
            subscription.subscribe(CHANNEL)
            while not stop.is_set():
                message = subscription.get_message(timeout=1.0)
                if message:
                    gone = json.loads(message["data"])
                    if repos.remove(settings.git_root, gone["app"], gone["uuid"]):
                        log.info("removed the git repository of %s: the app was destroyed", gone["app"])
        except (redis.RedisError, ControllerError, OSError, ValueError, KeyError) as exc:
            log.warning("repository sweeper: %s; retrying in %s s", exc, RETRY_SECONDS)
            time.sleep(RETRY_SECONDS)
