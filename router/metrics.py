"""The router's metrics: requests per app by status class, and how long the apps took to answer.

nginx writes one line per request to `<runtime>/metrics.log` in the `pier_metrics` format of
templates/nginx.conf.j2 (`app|status|upstream response time`), buffered for at most a second; a thread of the
router reads the new lines and counts them. The app is the id the configuration names for the server block,
empty for hosts no app answers, so the labels stay as many as the apps (and five status classes).

The log never grows past ROTATE_BYTES: the reader renames it and asks nginx to reopen it, then reads what
nginx's workers still write to the old file for a moment before it removes it, so no line is lost.
"""
import logging
import os
import re
import time

from prometheus_client import Counter, Histogram

from core.metrics import status_class

log = logging.getLogger("pier.router")

LOG_NAME = "metrics.log"
ROTATE_BYTES = 16 * 1024 * 1024
POLL_SECONDS = 0.5
DRAIN_SECONDS = 5.0  # how long the old file is still read after nginx reopened its log (workers flush late)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")

REQUESTS = Counter("pier_router_requests", "Requests the router answered, by app (empty: no app has the host) "
                   "and status class", ["app", "status"])
UPSTREAM = Histogram("pier_router_upstream_response_seconds", "How long apps took to answer the router's "
                     "requests (all tries of one request together)", ["app"], buckets=BUCKETS)
RELOADS = Counter("pier_router_reloads", "Times nginx was started or reloaded with a new configuration")


def parse(line):
    """(app, status class, upstream seconds or None) from a line of the metrics log, or None for a line that
    is not one (a partial or foreign line is skipped, never fatal). `$upstream_response_time` lists one time
    per upstream tried ("0.002, 0.010") and is "-" when nginx answered by itself."""
    parts = line.rstrip("\n").split("|")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    app, status, upstream = parts
    times = _SECONDS.findall(upstream)
    return app, status_class(status), (sum(float(t) for t in times) if times else None)


def record(line):
    parsed = parse(line)
    if parsed is None:
        return
    app, status, upstream = parsed
    REQUESTS.labels(app, status).inc()
    if upstream is not None:
        UPSTREAM.labels(app).observe(upstream)


class MetricsLog:
    """Follows nginx's metrics log, counting each line once, and rotates it."""

    def __init__(self, runtime, reopen, record=record, rotate_bytes=ROTATE_BYTES, clock=time.monotonic):
        self.path = os.path.join(runtime, LOG_NAME)
        self.reopen, self.record, self.rotate_bytes = reopen, record, rotate_bytes
        self.clock = clock
        self.current = None  # (file, partial line)
        self.old = None  # (file, partial line, until): the file before a rotation, still read until then

    def start(self):
        """Skips what the log held before this router started: it was counted by the one before, if any."""
        self.current = self._open(at_end=True)

    def follow(self, stop):
        self.start()
        while not stop.wait(POLL_SECONDS):
            try:
                self.poll()
            except OSError as exc:
                log.warning("cannot read the metrics log %s: %s", self.path, exc)

    def poll(self):
        """Counts every complete line written since the last poll; rotates the log when it grew too big."""
        if self.old is not None:
            handle, partial, until = self.old
            partial = self._read(handle, partial)
            if self.clock() >= until:
                handle.close()
                self.old = None
            else:
                self.old = (handle, partial, until)
        if self.current is None:
            self.current = self._open(at_end=False)
            if self.current is None:
                return
        handle, partial = self.current
        self.current = (handle, self._read(handle, partial))
        try:
            on_disk = os.stat(self.path).st_ino
        except FileNotFoundError:
            return  # rotated, and nginx has not reopened its log yet
        if on_disk != os.fstat(handle.fileno()).st_ino:  # reopened by nginx after a rotation (ours or logrotate's)
            if self.old is not None:  # two rotations within DRAIN_SECONDS: the older file is done with
                self._read(*self.old[:2])
                self.old[0].close()
            self.old = (handle, self.current[1], self.clock() + DRAIN_SECONDS)
            self.current = self._open(at_end=False)
        elif os.fstat(handle.fileno()).st_size >= self.rotate_bytes:
            self.rotate()

    def rotate(self):
        rotated = self.path + ".1"
        os.replace(self.path, rotated)
        os.unlink(rotated)  # still open here, and in nginx's workers until they reopen: nothing is lost
        self.reopen()

    def _open(self, at_end):
        try:
            handle = open(self.path, "r", encoding="utf-8", errors="replace")
        except FileNotFoundError:  # nginx has not started yet, or not reopened after a rotation
            return None
        if at_end:
            handle.seek(0, os.SEEK_END)
        return handle, ""

    def _read(self, handle, partial):
        text = partial + handle.read()
        *lines, partial = text.split("\n")
        for line in lines:
            self.record(line)
        return partial
