"""The controllers the fake cluster simulates, every 50 ms: Deployments (a rolling update with maxSurge and
maxUnavailable, scale-down by the ReplicaSet's ranking, status), the kubelet (containers start, crash, fail to
pull, get ready by their probes, drain for their preStop sleep when deleted), one-off pods, and namespace
deletion."""
import hashlib
import json
import math
import secrets
import threading
import time

from tests.support.fake_kube.kubelet import Container, Logs, environment, probe_passes, run_one_off
from tests.support.fake_kube.store import now

TICK = 0.05


def _status(image, state, ready=False, restarts=0, last=None):
    found = {"name": "main", "image": image, "imageID": "", "ready": ready, "restartCount": restarts,
             "started": "running" in state, "state": state}
    if last:
        found["lastState"] = last
    return found


def _container_id():
    return f"containerd://{secrets.token_hex(32)}"


class Runtime:
    """The kubelet's record of one pod."""

    def __init__(self, logs):
        self.logs = logs
        self.container = None
        self.draining_since = None
        self.one_off = None


class Controllers(threading.Thread):
    def __init__(self, cluster):
        super().__init__(daemon=True, name="fake-kube-controllers")
        self.cluster, self.store = cluster, cluster.store
        self.runtime = {}  # pod uid -> Runtime
        self.logs = {}  # (namespace, pod name) -> Logs
        self.halt = threading.Event()
        self.addresses = iter(range(2, 60000))

    def run(self):
        while not self.halt.wait(TICK):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a fake's bug must show, not stop the simulation silently
                import traceback
                traceback.print_exc()

    def stop(self):
        self.halt.set()
        self.join(timeout=5)
        for runtime in self.runtime.values():
            if runtime.container:
                runtime.container.stop()
            runtime.logs.finish()

    # -- namespaces -----------------------------------------------------------------------------------------
    def tick(self):
        store = self.store
        for space in store.list("namespaces")[0]:
            if space["metadata"].get("deletionTimestamp"):
                name = space["metadata"]["name"]
                for resource in ("deployments", "services", "secrets", "horizontalpodautoscalers", "pods"):
                    for obj in store.list(resource, name)[0]:
                        if resource == "pods":
                            self._gone(obj)
                        store.remove(resource, name, obj["metadata"]["name"])
                store.remove("namespaces", None, name)
        for deployment in store.list("deployments")[0]:
            self._deployment(deployment)
        for pod in store.list("pods")[0]:
            self._kubelet(pod)
        self._readiness()
        for deployment in store.list("deployments")[0]:
            self._deployment_status(deployment)

    # -- Deployments ----------------------------------------------------------------------------------------
    def _owned(self, deployment, leaving=False):
        uid = deployment["metadata"]["uid"]
        return [p for p in self.store.list("pods", deployment["metadata"]["namespace"])[0]
                if any(o.get("uid") == uid for o in p["metadata"].get("ownerReferences") or [])
                and bool(p["metadata"].get("deletionTimestamp")) == leaving
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]  # the RS ignores those

    @staticmethod
    def template_hash(template):
        return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]

    @staticmethod
    def _ready(pod):
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        return bool(statuses and statuses[0].get("ready"))

    def _deployment(self, deployment):
        spec = deployment["spec"]
        replicas, digest = spec.get("replicas", 1), self.template_hash(spec["template"])
        surge = spec.get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1)
        surge = math.ceil(replicas * int(surge[:-1]) / 100) if isinstance(surge, str) else surge
        pods = self._owned(deployment)
        new = [p for p in pods if p["metadata"]["labels"].get("pod-template-hash") == digest]
        old = [p for p in pods if p not in new]
        for _ in range(min(replicas - len(new), max(0, replicas + max(surge, 1) - len(pods)))):
            self._create_pod(deployment, digest)

        def ranking(pod):  # the ReplicaSet deletes not-ready pods first, then the cheapest, then the newest
            cost = int((pod["metadata"].get("annotations") or {}).get(
                "controller.kubernetes.io/pod-deletion-cost", 0))
            return self._ready(pod), cost, -int(pod["metadata"]["resourceVersion"])

        for pod in sorted(new, key=ranking)[:max(0, len(new) - replicas)]:
            self.delete_pod(pod)
        ready_new = sum(1 for p in new if self._ready(p))
        allowed_old = max(0, replicas - ready_new)
        for pod in sorted(old, key=ranking)[:max(0, len(old) - allowed_old)]:
            self.delete_pod(pod)

    def _create_pod(self, deployment, digest):
        metadata, template = deployment["metadata"], deployment["spec"]["template"]
        name = f"{metadata['name']}-{digest}-{secrets.token_hex(3)[:5]}"
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "labels": dict(template["metadata"].get("labels") or {},
                                                         **{"pod-template-hash": digest}),
                            "annotations": dict(template["metadata"].get("annotations") or {}),
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                 "name": f"{metadata['name']}-{digest}", "uid": metadata["uid"],
                                                 "controller": True}]},
               "spec": json.loads(json.dumps(template["spec"])),
               "status": {"phase": "Pending"}}
        self.store.create("pods", metadata["namespace"], pod, validate=False)

    def _deployment_status(self, deployment):
        pods = self._owned(deployment)
        digest = self.template_hash(deployment["spec"]["template"])
        new = [p for p in pods if p["metadata"]["labels"].get("pod-template-hash") == digest]
        ready = sum(1 for p in pods if self._ready(p))
        status = {"observedGeneration": deployment["metadata"].get("generation", 1), "replicas": len(pods),
                  "updatedReplicas": len(new), "readyReplicas": ready,
                  "availableReplicas": sum(1 for p in new if self._ready(p)) + sum(
                      1 for p in pods if p not in new and self._ready(p))}
        self.store.update("deployments", deployment["metadata"]["namespace"], deployment["metadata"]["name"],
                          lambda d: d.__setitem__("status", {k: v for k, v in status.items() if v}))

    # -- pods -----------------------------------------------------------------------------------------------
    def delete_pod(self, pod, grace_seconds=None):
        """Marks a pod as leaving; the kubelet drains it for its preStop sleep (none when grace is 0)."""
        stamp = now()

        def mark(p):
            p["metadata"]["deletionTimestamp"] = stamp
            p["metadata"]["deletionGracePeriodSeconds"] = 0 if grace_seconds == 0 else 30
        self.store.update("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], mark)

    def _gone(self, pod):
        runtime = self.runtime.pop(pod["metadata"]["uid"], None)
        if runtime is not None:
            if runtime.container:
                runtime.container.stop()
            runtime.logs.finish()
        self.logs.pop((pod["metadata"]["namespace"], pod["metadata"]["name"]), None)

    def _set_status(self, pod, **status):
        def change(p):
            p["status"] = dict(p.get("status") or {}, **status)
        self.store.update("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], change)

    def _kubelet(self, pod):
        metadata, spec = pod["metadata"], pod["spec"]
        runtime = self.runtime.get(metadata["uid"])
        if metadata.get("deletionTimestamp"):
            drain = 0
            if metadata.get("deletionGracePeriodSeconds") != 0 and runtime and runtime.container:
                drain = ((spec["containers"][0].get("lifecycle") or {}).get("preStop") or {}).get(
                    "sleep", {}).get("seconds", 0)
            if runtime is not None and runtime.draining_since is None:
                runtime.draining_since = time.monotonic()
            if runtime is None or time.monotonic() - runtime.draining_since >= drain:
                self._gone(pod)
                self.store.remove("pods", metadata["namespace"], metadata["name"])
            return
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") or (
                runtime is not None and runtime.container is not None) or (runtime and runtime.one_off):
            return
        image_name = spec["containers"][0]["image"]
        if not self.cluster.schedulable(spec.get("nodeSelector") or {}):
            self._set_status(pod, phase="Pending", conditions=[{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."}])
            return
        if runtime is None:
            logs = self.logs.setdefault((metadata["namespace"], metadata["name"]), Logs())
            runtime = self.runtime[metadata["uid"]] = Runtime(logs)
        image = self.cluster.images.get(image_name)
        if image is None or not self.cluster.pullable(pod, image):
            waited = (((pod.get("status") or {}).get("containerStatuses") or [{}])[0].get("state") or {}).get(
                "waiting", {}).get("reason")
            reason = "ImagePullBackOff" if waited in ("ErrImagePull", "ImagePullBackOff") else "ErrImagePull"
            message = f'Back-off pulling image "{image_name}"' if reason == "ImagePullBackOff" else \
                f'failed to pull and unpack image "{image_name}": not found or unauthorized'
            self._set_status(pod, phase="Pending", containerStatuses=[_status(image_name, {"waiting": {
                "reason": reason, "message": message}})])
            return
        try:
            env = environment(pod, {s["metadata"]["name"]: s for s in self.store.list(
                "secrets", metadata["namespace"])[0]})
        except KeyError as missing:
            self._set_status(pod, phase="Pending", containerStatuses=[_status(image_name, {"waiting": {
                "reason": "CreateContainerConfigError", "message": f"secret {missing} not found"}})])
            return
        number = next(self.addresses)
        address = f"10.244.{number // 250}.{number % 250 + 1}"
        started = now()
        if spec.get("restartPolicy") == "Never":
            self._start_one_off(pod, runtime, env, image_name, address, started)
            return
        for line in image.output:
            runtime.logs.append(line.format(**env))
        if image.crash:
            code, output, reason = image.crash
            runtime.logs.append(output)
            self._set_status(pod, phase="Running", podIP=address, startTime=started, containerStatuses=[_status(
                image_name, {"waiting": {"reason": "CrashLoopBackOff",
                                         "message": "back-off 10s restarting failed container"}}, restarts=1,
                last={"terminated": {"exitCode": code, "reason": reason, "startedAt": started, "finishedAt": now(),
                                     "containerID": _container_id()}})])
            runtime.container = Container(image, env, runtime.logs)  # crashed: no server, never ready
            return
        runtime.container = Container(image, env, runtime.logs)
        if spec["containers"][0].get("ports"):
            runtime.container.serve()
        self._set_status(pod, phase="Running", podIP=address, startTime=started, containerStatuses=[_status(
            image_name, {"running": {"startedAt": started}})])

    def _start_one_off(self, pod, runtime, env, image_name, address, started):
        metadata = pod["metadata"]
        command = pod["spec"]["containers"][0]["args"][-1]
        deadline = pod["spec"].get("activeDeadlineSeconds")
        self._set_status(pod, phase="Running", podIP=address, startTime=started, containerStatuses=[_status(
            image_name, {"running": {"startedAt": started}})])

        def run():
            code, late = run_one_off(command, env, deadline, runtime.logs)
            if late:
                self._set_status(pod, phase="Failed", reason="DeadlineExceeded",
                                 message="Pod was active on the node longer than the specified deadline")
            else:
                self._set_status(pod, phase="Succeeded" if code == 0 else "Failed", containerStatuses=[_status(
                    image_name, {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                                "startedAt": started, "finishedAt": now()}})])
            runtime.logs.finish()

        runtime.one_off = threading.Thread(target=run, daemon=True, name=f"one-off-{metadata['name']}")
        runtime.one_off.start()

    def _readiness(self):
        """Runs every running container's readiness probe (none: ready once running) and records the result."""
        for pod in self.store.list("pods")[0]:
            runtime = self.runtime.get(pod["metadata"]["uid"])
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            if runtime is None or runtime.container is None or not statuses or "running" not in statuses[0][
                    "state"] or pod["metadata"].get("deletionTimestamp"):
                continue
            probe = pod["spec"]["containers"][0].get("readinessProbe")
            ready = probe_passes(probe, runtime.container) if probe else True
            if ready != statuses[0]["ready"]:
                self._set_status(pod, containerStatuses=[dict(statuses[0], ready=ready)], conditions=[
                    {"type": "Ready", "status": "True" if ready else "False"}])

    def crash(self, pod, output):
        """The container of a running pod exits 1 after printing `output`: restarted once, it waits in back-off
        (the fake runs no second container)."""
        runtime = self.runtime[pod["metadata"]["uid"]]
        runtime.container.stop()
        runtime.logs.append(output)
        runtime.logs.finish()  # its followers' streams end, as they do when a container exits
        status = pod["status"]["containerStatuses"][0]
        waiting = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container"}}
        ended = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": status["state"]["running"]["startedAt"],
                                "finishedAt": now(), "containerID": _container_id()}}
        self._set_status(pod, containerStatuses=[_status(status["image"], waiting, restarts=status.get(
            "restartCount", 0) + 1, last=ended)], conditions=[{"type": "Ready", "status": "False"}])

    def evict(self, pod):
        """What the kubelet does to a pod under node pressure: its container is killed, the pod Failed for good."""
        runtime = self.runtime.get(pod["metadata"]["uid"])
        if runtime and runtime.container:
            runtime.container.stop()
        image = pod["spec"]["containers"][0]["image"]
        self._set_status(pod, phase="Failed", reason="Evicted", message="The node was low on resource: memory.",
                         containerStatuses=[_status(image, {"terminated": {"exitCode": 137, "reason": "Error"}})])
