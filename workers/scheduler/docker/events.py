"""Watching the Docker engine's container events, so that a dead container is repaired in seconds rather
than at the next reconcile round."""
import logging
import time

from docker.errors import DockerException
from requests.exceptions import RequestException

from workers.scheduler.docker.containers import label

log = logging.getLogger("pier.scheduler.docker.events")
EVENTS = ["die", "start", "destroy", "oom"]


def watch_events(client, on_change, stop, interval=1.0):
    """Reads the engine's events window by window (each `interval` seconds), so that a restarted engine or a
    lost connection costs one window, never the watch."""
    since = time.time()
    while not stop.wait(interval):
        until = time.time()
        try:
            events = client.events(since=since, until=until, decode=True,
                                   filters={"type": "container", "label": label("app"), "event": EVENTS})
            changed = {event["Actor"]["Attributes"].get(label("app")) for event in events}
        except (DockerException, RequestException) as exc:
            log.warning("cannot read the engine's events: %s", exc)
            continue
        since = until
        for app in sorted(a for a in changed if a):
            on_change(app)
