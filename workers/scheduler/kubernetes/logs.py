"""Following every Pier pod's log, for the log store.

Pods are listed every second; each running container gets a thread that follows its log with timestamps
(`pods/log?follow=true&timestamps=true`), from a little before the last line already taken from that pod
(`resume`), skipping what was taken. A follower ends with its container; a restarted container is followed
again at the next listing.

A container that crashes within a second of starting is seldom seen running: in a crash loop it waits in
back-off, and its output is only in the log of its last run (`previous=true`). That log is read once for each
run that ended (each `restartCount`), so a crash-looping app's output reaches `pier logs` as it does on Docker.
"""
import logging
import socket
import threading
import time
from datetime import datetime, timezone

from kubernetes.watch.watch import iter_resp_lines
from urllib3.exceptions import HTTPError

from workers.scheduler.base import SchedulerError, SchedulerUnavailable
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
    """Follows a running container's log (`ended` None), or reads once the log of the run `ended` names."""

    def __init__(self, cluster, pod, sink, since, ended=None):
        metadata = pod["metadata"]
        super().__init__(daemon=True, name=f"logs-{metadata['name']}")
        self.cluster, self.sink, self.since = cluster, sink, since
        self.name_, self.namespace = metadata["name"], metadata["namespace"]
        self.app = metadata["labels"][manifests.APP]
        self.ended = ended
        self.response = None
        self.last = since
        self.complete = False  # read to its end: a run that ended is not read again

    def run(self):
        options = {"since_seconds": seconds_since(self.since)} if self.since else {}
        if self.ended is None:
            options.update(follow=True, what=f"follow the log of {self.name_}")
        else:
            options.update(previous=self.ended[0] == "previous", what=f"read the log of {self.name_}'s last run")
        try:
            self.response = self.cluster.call(
                self.cluster.core.read_namespaced_pod_log, self.name_, self.namespace, timestamps=True,
                stream=True, read_seconds=FOLLOW_SECONDS, **options)
            for line in iter_resp_lines(self.response):
                stamp, _, text = line.partition(" ")
                if not stamp:
                    continue
                stamp = fixed_stamp(stamp)
                if self.last and stamp <= self.last:
                    continue  # taken before (by an earlier follower or collector)
                self.last = stamp
                self.sink(self.app, self.name_, stamp, text)
            self.complete = True
        except (SchedulerUnavailable, HTTPError, OSError, ValueError) as exc:
            log.debug("stopped following %s: %s", self.name_, exc)
        except SchedulerError as exc:  # refused (the pod or its last run is gone): nothing left to read
            self.complete = True
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


def _container(pod):
    """The status of the pod's container (Pier's pods have one), {} before it has one."""
    return ((pod.get("status") or {}).get("containerStatuses") or [{}])[0]


def _ended_run(container):
    """How to read the log of the run that ended, and which run it was, or None: ("current", ...) for a
    container that ended and was not started again, ("previous", ...) for one waiting to be restarted."""
    state, last = container.get("state") or {}, (container.get("lastState") or {}).get("terminated")
    if "terminated" in state:
        ended, how = state["terminated"], "current"
    elif "waiting" in state and last:
        ended, how = last, "previous"
    else:
        return None
    return how, container.get("restartCount", 0), ended.get("containerID") or ended.get("finishedAt")


def _start(followers, pod, cluster, sink, resume):
    """Starts what the pod's log needs now: a follower of its running container, or one read of the run that
    ended since the last read; nothing while one is at work or when nothing new ended."""
    key = pod["metadata"]["uid"]
    follower = followers.get(key)
    if follower is not None and follower.is_alive():
        return
    container = _container(pod)
    if "running" in (container.get("state") or {}):
        ended = None
    else:
        ended = _ended_run(container)
        if ended is None or (follower is not None and follower.ended == ended and follower.complete):
            return  # nothing ran yet, or this run was read already (a read that failed is tried again)
    name = pod["metadata"]["name"]
    taken = [s for s in (resume(name) if resume else None, follower.last if follower else None) if s]
    follower = followers[key] = Follower(cluster, pod, sink, max(taken) if taken else None, ended)
    follower.start()


def follow_logs(cluster, selector, sink, stop, resume=None):
    """Runs until `stop` is set. `sink(app, pod, stamp, text)`; `resume(pod) -> last stamp or None`."""
    followers = {}
    try:
        while not stop.is_set():
            try:
                listed = cluster.call(cluster.core.list_pod_for_all_namespaces, label_selector=selector,
                                      what="list Pier's pods to follow their logs")
            except SchedulerError as exc:
                log.warning("cannot list pods to follow their logs: %s", exc)
            else:
                pods = listed.get("items", [])
                for pod in pods:
                    _start(followers, pod, cluster, sink, resume)
                # a pod that is gone leaves its follower once that has finished: kept, they would pile up
                listed_uids = {pod["metadata"]["uid"] for pod in pods}
                followers = {key: follower for key, follower in followers.items()
                             if key in listed_uids or follower.is_alive()}
            stop.wait(DISCOVER_SECONDS)
    finally:
        for follower in followers.values():
            follower.stop()
        deadline = time.monotonic() + 2
        for follower in followers.values():
            follower.join(timeout=max(0.0, deadline - time.monotonic()))
