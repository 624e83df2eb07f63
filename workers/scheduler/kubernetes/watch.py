"""Watching Pier's pods, so that the watcher asks for a reconcile of an app as soon as one of its pods
changes. A watch resumes from the last resourceVersion it saw; when the API server no longer keeps that
version (410 Gone, as an ERROR event or as the answer itself) it lists again, tells about every app (events
may have been missed in between), and watches on from the list's version."""
import json
import logging

from kubernetes.watch.watch import iter_resp_lines
from urllib3.exceptions import HTTPError

from workers.scheduler.base import SchedulerError
from workers.scheduler.kubernetes import manifests, states
from workers.scheduler.kubernetes.cluster import Gone

log = logging.getLogger("pier.scheduler.kubernetes.watch")
WATCH_SECONDS = 5  # each watch request ends after this long (server side), so `stop` is seen that soon


def _app(pod):
    return ((pod.get("metadata") or {}).get("labels") or {}).get(manifests.APP)


def _list(cluster, selector):
    listed = cluster.call(cluster.core.list_pod_for_all_namespaces, label_selector=selector,
                          what="list Pier's pods")
    return listed["metadata"]["resourceVersion"], [p for p in listed.get("items", []) if _app(p)]


def _seen(pod):
    """What `ps` would show of a pod: only a change of it is worth a reconcile."""
    return states.judge(pod)[:2], states.leaving(pod)


def watch_pods(cluster, selector, on_change, stop, seconds=WATCH_SECONDS):
    version, missed, known = None, False, {}
    while not stop.is_set():
        try:
            if version is None:
                version, pods = _list(cluster, selector)
                known = {p["metadata"]["uid"]: _seen(p) for p in pods}
                for app in sorted({_app(p) for p in pods}) if missed else ():
                    on_change(app)
            response = cluster.call(cluster.core.list_pod_for_all_namespaces, label_selector=selector, watch=True,
                                    resource_version=version, timeout_seconds=seconds, allow_watch_bookmarks=True,
                                    stream=True, read_seconds=seconds + 10, what="watch Pier's pods")
            try:
                for line in iter_resp_lines(response):
                    if not line:
                        continue
                    event = json.loads(line)
                    if event["type"] == "ERROR":
                        status = event.get("object") or {}
                        if status.get("code") == 410:
                            raise Gone(status.get("message") or "resourceVersion too old")
                        raise SchedulerError(f"the pod watch failed: {status.get('message')}")
                    pod = event["object"]
                    version = pod["metadata"].get("resourceVersion") or version
                    if event["type"] == "BOOKMARK" or not _app(pod):
                        continue
                    uid = pod["metadata"]["uid"]
                    now = None if event["type"] == "DELETED" else _seen(pod)
                    if known.get(uid) != now:
                        known[uid] = now
                        on_change(_app(pod))
                    if now is None:
                        known.pop(uid, None)
                    if stop.is_set():
                        break
            finally:
                response.close()
                response.release_conn()
        except Gone as exc:
            log.info("the pod watch expired (%s); listing again", exc)
            version, missed = None, True
        except SchedulerError as exc:
            log.warning("watching pods: %s", exc)
            stop.wait(1.0)
        except (HTTPError, OSError, ValueError) as exc:  # cut mid-stream: watch again from the last version
            log.warning("the pod watch was cut: %s", exc)
            stop.wait(1.0)
