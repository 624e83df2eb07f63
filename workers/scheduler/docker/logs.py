"""Following every app container's output on the Docker engine, for the log store.

One thread per running container streams its log (`docker logs --follow --timestamps`); containers are
found by listing the engine every second, so a restarted or new container is followed within a second.
Each container's last forwarded timestamp is kept by the sink's owner (`resume`), so a restarted watcher
picks up where it left off without repeating lines.
"""
import logging
import threading

import docker
from docker.errors import DockerException
from requests.exceptions import RequestException

from workers.scheduler.docker.containers import RUN_TYPE, epoch_seconds, label

log = logging.getLogger("pier.scheduler.docker.logs")
DISCOVER_SECONDS = 1.0


def _lines(chunks):
    """Whole lines from a stream of byte chunks that may split or join them."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *whole, pending = pending.split(b"\n")
        for line in whole:
            yield line.decode("utf-8", "replace")
    if pending:
        yield pending.decode("utf-8", "replace")


def fixed_stamp(stamp):
    """Docker's RFC 3339 times drop trailing zeros of the nanoseconds; pad them so that times compare as text."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    return f"{whole}.{(fraction + '0' * 9)[:9]}Z"


class Follower(threading.Thread):
    def __init__(self, container, sink, since):
        super().__init__(daemon=True, name=f"logs-{container.name}")
        self.api = docker.from_env(timeout=None).api
        self.container_id, self.name = container.id, container.name
        self.app = container.labels[label("app")]
        self.sink, self.since = sink, since

    def run(self):
        try:
            stream = self.api.logs(self.container_id, stream=True, follow=True, timestamps=True,
                                   since=epoch_seconds(self.since) if self.since else None)
            for line in _lines(stream):
                stamp, _, text = line.partition(" ")
                stamp = fixed_stamp(stamp)
                if self.since and stamp <= self.since:
                    continue  # already forwarded before a restart of the watcher
                self.sink(self.app, self.name, stamp, text)
        except (DockerException, RequestException, OSError) as exc:
            log.debug("stopped following %s: %s", self.name, exc)
        except Exception:  # noqa: BLE001 - e.g. the log store is down: the next discovery round retries
            log.exception("stopped following %s", self.name)
        finally:
            self.api.close()

    def stop(self):
        self.api.close()


def follow_logs(client, sink, stop, resume=None):
    """Runs until `stop` is set. `sink(app, pod, stamp, text)`; `resume(pod) -> last stamp or None`."""
    followers = {}
    try:
        while not stop.is_set():
            try:
                running = client.containers.list(filters={"label": label("app"), "status": "running"},
                                                 ignore_removed=True)
            except (DockerException, RequestException) as exc:
                log.warning("cannot list containers to follow their logs: %s", exc)
                running = []
            for container in running:
                if container.labels.get(label("type")) in (None, RUN_TYPE):
                    continue
                follower = followers.get(container.id)
                if follower is None or not follower.is_alive():
                    since = resume(container.name) if resume else None
                    follower = followers[container.id] = Follower(container, sink, since)
                    follower.start()
            stop.wait(DISCOVER_SECONDS)
    finally:
        for follower in followers.values():
            follower.stop()
