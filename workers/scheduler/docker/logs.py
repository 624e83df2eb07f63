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


class Followers:
    """The followers of one collection, by container id; a container is followed once at a time."""

    def __init__(self, sink, resume):
        self.sink, self.resume = sink, resume
        self.lock = threading.Lock()
        self.by_id = {}

    def follow(self, container):
        if container.labels.get(label("type")) in (None, RUN_TYPE):
            return
        with self.lock:
            follower = self.by_id.get(container.id)
            if follower is not None and follower.is_alive():
                return
            since = self.resume(container.name) if self.resume else None
            follower = self.by_id[container.id] = Follower(container, self.sink, since)
            follower.start()

    def forget_finished(self):
        """Drops the followers whose container's log has ended (it stopped, or was removed): kept, they would pile
        up over months of deploys. One that starts again is followed anew, as a new one is."""
        with self.lock:
            self.by_id = {key: follower for key, follower in self.by_id.items() if follower.is_alive()}

    def stop(self):
        with self.lock:
            for follower in self.by_id.values():
                follower.stop()


def follow_logs(client, sink, stop, resume=None):
    """Runs until `stop` is set. `sink(app, pod, stamp, text)`; `resume(pod) -> last stamp or None`."""
    followers = Followers(sink, resume)
    starts = threading.Thread(target=_follow_starts, args=(followers, stop), daemon=True, name="logs-starts")
    starts.start()
    try:
        while not stop.is_set():
            try:
                running = client.containers.list(filters={"label": label("app"), "status": "running"},
                                                 ignore_removed=True)
            except (DockerException, RequestException) as exc:
                log.warning("cannot list containers to follow their logs: %s", exc)
                running = []
            for container in running:
                followers.follow(container)
            followers.forget_finished()
            stop.wait(DISCOVER_SECONDS)
    finally:
        followers.stop()


def _follow_starts(followers, stop):
    """Follows each app container as the engine starts it (its `start` events), not at the next listing: one
    that lives less than a listing's round (an old release replaced at once) lost its lines. Docker gives the
    whole log of a container that has already stopped, until it is removed (a container that crashed while
    starting is removed at once; its last lines are in the release's failure instead). The listing stays: it
    covers what started while this stream was down."""
    streams = []

    def close_on_stop():
        stop.wait()
        for events in streams:
            events.close()

    threading.Thread(target=close_on_stop, daemon=True, name="logs-starts-closer").start()
    while not stop.is_set():
        client = docker.from_env(timeout=None)
        try:
            events = client.events(decode=True, filters={"type": "container", "event": "start",
                                                         "label": label("app")})
            streams[:] = [events]
            if stop.is_set():  # set before the stream was there to be closed
                events.close()
            for event in events:
                try:
                    followers.follow(client.containers.get(event.get("id") or event["Actor"]["ID"]))
                except docker.errors.NotFound:
                    pass  # removed already: nothing left to read
        except (DockerException, RequestException, OSError) as exc:
            if not stop.is_set():
                log.warning("cannot read the engine's container starts: %s", exc)
        finally:
            client.close()
        stop.wait(DISCOVER_SECONDS)
