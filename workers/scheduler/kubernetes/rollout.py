"""Waiting for Deployments to roll out, and saying why one did not."""
import time

from workers.scheduler.base import SchedulerError
from workers.scheduler.kubernetes import manifests, states
from workers.scheduler.kubernetes.cluster import NotFound

POLL_SECONDS = 0.25
LOG_TAIL_ON_FAILURE = 20


def complete(deployment):
    """kubectl's `rollout status` test: the controller saw the latest spec, every replica runs the latest
    template, no old replica is left, and every updated one is available."""
    wanted = deployment["spec"].get("replicas", 1)
    status = deployment.get("status") or {}
    return (status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
            and status.get("updatedReplicas", 0) >= wanted
            and status.get("replicas", 0) <= status.get("updatedReplicas", 0)
            and status.get("availableReplicas", 0) >= status.get("updatedReplicas", 0))


def deployments(cluster, namespace):
    """{process type: Deployment} of the app in `namespace`."""
    found = cluster.call(cluster.apps.list_namespaced_deployment, namespace,
                         label_selector=f"{manifests.APP}={namespace}", what=f"list the Deployments of {namespace}")
    return {d["metadata"]["labels"][manifests.TYPE]: d for d in found.get("items", [])
            if manifests.TYPE in (d["metadata"].get("labels") or {})}


def pod_items(cluster, namespace):
    found = cluster.call(cluster.core.list_namespaced_pod, namespace, label_selector=f"{manifests.APP}={namespace}",
                         what=f"list the pods of {namespace}")
    return found.get("items", [])


def log_tail(cluster, pod):
    """The last lines a pod printed ('' when it printed nothing or they cannot be read); for a container
    waiting to be restarted, those of the run that crashed."""
    metadata = pod["metadata"]
    restarted = any(s.get("restartCount") for s in (pod.get("status") or {}).get("containerStatuses") or [])
    for previous in ((False, True) if restarted else (False,)):
        try:
            response = cluster.call(cluster.core.read_namespaced_pod_log, metadata["name"], metadata["namespace"],
                                    tail_lines=LOG_TAIL_ON_FAILURE, previous=previous, stream=True,
                                    what=f"read the log of pod {metadata['name']}")
            text = response.data.decode("utf-8", "replace").rstrip()
        except SchedulerError:
            text = ""
        if text:
            return text
    return ""


def _explained(cluster, pod, what):
    tail = log_tail(cluster, pod)
    return f"{pod['metadata']['name']} {what}." + (f" Last log lines:\n{tail}" if tail else " It printed nothing.")


def wait(cluster, namespace, types, release, timeout):
    """Returns once the Deployments of `types` have rolled out. Raises SchedulerError with the reason as soon as a
    pod of `release` crashes or cannot start, or when they have not rolled out within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        live = deployments(cluster, namespace)
        if all(t in live and complete(live[t]) for t in types):
            return
        pods = [p for p in pod_items(cluster, namespace) if states.is_process(p) and not states.leaving(p)
                and p["metadata"]["labels"].get(manifests.TYPE) in types
                and p["metadata"]["labels"].get(manifests.RELEASE) == release]
        for pod in pods:
            state, _, reason, _ = states.judge(pod)
            if state == "crashed":
                raise SchedulerError(_explained(cluster, pod, f"exited while starting ({reason})"))
            if state == "error":
                raise SchedulerError(f"{pod['metadata']['name']} could not start: {reason}")
        if time.monotonic() > deadline:
            raise SchedulerError(_late(cluster, live, pods, types, timeout))
        time.sleep(POLL_SECONDS)


def _late(cluster, live, pods, types, timeout):
    unready = [p for p in pods if not states.judge(p)[1]]
    if unready:
        pod = unready[0]
        reason = states.judge(pod)[2]
        port = ((pod["spec"]["containers"][0].get("ports") or [{}])[0]).get("containerPort")
        hint = f" (waiting for it to listen on $PORT, {port})" if port else ""
        return _explained(cluster, pod, f"was not ready within {timeout:.0f}s{hint}"
                                        + (f": {reason}" if reason else ""))
    waiting = [t for t in types if t not in live or not complete(live[t])]
    return (f"{', '.join(waiting)} did not roll out within {timeout:.0f}s: no pod of the release was created "
            "(check the namespace's quota and events with kubectl).")


def wait_gone(cluster, read, timeout, what):
    """Waits until `read()` raises NotFound."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            read()
        except NotFound:
            return
        time.sleep(POLL_SECONDS)
    raise SchedulerError(f"{what} is still being removed after {timeout:.0f}s; try again in a moment.")


def wait_no_pods(cluster, namespace, release, timeout):
    """Waits until no pod of `release` is left running (after a rollback, its failed pods go)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            left = [p for p in pod_items(cluster, namespace) if states.is_process(p) and not states.leaving(p)
                    and p["metadata"]["labels"].get(manifests.RELEASE) == release]
        except NotFound:
            return
        if not left:
            return
        time.sleep(POLL_SECONDS)


def one_off_result(cluster, namespace, name, time_limit):
    """(exit code, output) of a one-off pod, once it has finished. Kubernetes kills it after `time_limit`
    seconds (activeDeadlineSeconds); this waits a little longer for that to be reported."""
    deadline = time.monotonic() + time_limit + 30
    while True:
        pod = cluster.call(cluster.core.read_namespaced_pod, name, namespace, what=f"read pod {name}")
        status = pod.get("status") or {}
        if status.get("reason") == "DeadlineExceeded":
            raise SchedulerError(f"the command did not finish within {time_limit}s")
        if status.get("phase") in ("Succeeded", "Failed"):
            break
        state, _, reason, _ = states.judge(pod)
        if state == "error":
            raise SchedulerError(f"the one-off could not start: {reason}")
        if time.monotonic() > deadline:
            raise SchedulerError(f"the command did not finish within {time_limit}s")
        time.sleep(POLL_SECONDS)
    terminated = ((status.get("containerStatuses") or [{}])[0].get("state") or {}).get("terminated") or {}
    response = cluster.call(cluster.core.read_namespaced_pod_log, name, namespace, stream=True,
                            what=f"read the output of pod {name}")
    return terminated.get("exitCode", 1), response.data.decode("utf-8", "replace")
