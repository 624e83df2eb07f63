"""Following every Pier pod's log, for the log store.

Pods are listed every second; each running container gets a thread that follows its log with timestamps
(`pods/log?follow=true&timestamps=true`), from a little before the last line already taken from that pod
(`resume`), skipping what was taken. A follower ends with its container; a restarted container is followed
again at the next listing.
"""
import logging
import socket
import threading
import time
from datetime import datetime, timezone

from kubernetes.watch.watch import iter_resp_lines
from urllib3.exceptions import HTTPError

from workers.scheduler.base import SchedulerError
from workers.scheduler.kubernetes import manifests

log = logging.getLogger("pier.scheduler.kubernetes.logs")
DISCOVER_SECONDS = 1.0
FOLLOW_SECONDS = 3600  # a follow request is renewed this often (the API server's own limit may be lower)


def fixed_stamp(stamp):
    """RFC 3339 with nanoseconds, trailing zeros kept, so that stamps compare as text."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    return f"{whole}.{(fraction + '0' * 9)[:9]}Z"


def seconds_since(stamp):
    then = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return max(1, int((datetime.now(timezone.utc) - then).total_seconds()) + 2)


class Follower(threading.Thread):
    def __init__(self, cluster, pod, sink, since):
        metadata = pod["metadata"]
        super().__init__(daemon=True, name=f"logs-{metadata['name']}")
        self.cluster, self.sink, self.since = cluster, sink, since
        self.name_, self.namespace = metadata["name"], metadata["namespace"]
        self.app = metadata["labels"][manifests.APP]
        self.response = None
        self.last = since

    def run(self):
        options = {"since_seconds": seconds_since(self.since)} if self.since else {}
        try:
            self.response = self.cluster.call(
                self.cluster.core.read_namespaced_pod_log, self.name_, self.namespace, follow=True,
                timestamps=True, stream=True, read_seconds=FOLLOW_SECONDS, what=f"follow the log of {self.name_}",
                **options)
            for line in iter_resp_lines(self.response):
                stamp, _, text = line.partition(" ")
                if not stamp:
                    continue
                stamp = fixed_stamp(stamp)
                if self.last and stamp <= self.last:
                    continue  # taken before (by an earlier follower or collector)
                self.last = stamp
                self.sink(self.app, self.name_, stamp, text)
        except (SchedulerError, HTTPError, OSError, ValueError) as exc:
            log.debug("stopped following %s: %s", self.name_, exc)
        except Exception:  # noqa: BLE001 - e.g. the log store is down: the next discovery round retries
            log.exception("stopped following %s", self.name_)

    def stop(self):
        """Hangs up on the API server: a blocked read only wakes up when its socket is shut down."""
        sock = getattr(getattr(self.response, "connection", None), "sock", None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self.response is not None:
            self.response.close()


def _running(pod):
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return bool(statuses) and "running" in (statuses[0].get("state") or {})


def follow_logs(cluster, selector, sink, stop, resume=None):
    """Runs until `stop` is set. `sink(app, pod, stamp, text)`; `resume(pod) -> last stamp or None`."""
    followers = {}
    try:
        while not stop.is_set():
            try:
                listed = cluster.call(cluster.core.list_pod_for_all_namespaces, label_selector=selector,
                                      what="list Pier's pods to follow their logs")
                pods = [p for p in listed.get("items", []) if _running(p)]
            except SchedulerError as exc:
                log.warning("cannot list pods to follow their logs: %s", exc)
                pods = []
            for pod in pods:
                key = pod["metadata"]["uid"]
                follower = followers.get(key)
                if follower is None or not follower.is_alive():
                    name = pod["metadata"]["name"]
                    taken = [s for s in (resume(name) if resume else None, follower.last if follower else None) if s]
                    follower = followers[key] = Follower(cluster, pod, sink, max(taken) if taken else None)
                    follower.start()
            stop.wait(DISCOVER_SECONDS)
    finally:
        for follower in followers.values():
            follower.stop()
        deadline = time.monotonic() + 2
        for follower in followers.values():
            follower.join(timeout=max(0.0, deadline - time.monotonic()))
