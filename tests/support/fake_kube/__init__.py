"""A fake Kubernetes API server for tests: real HTTP on 127.0.0.1, spoken to by the official client through a
generated kubeconfig. It stores objects, validates every write against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict, for each version it is given), answers errors as Status objects (404, 409,
410 for an expired watch, 422), and simulates the controllers Pier relies on (see controllers.py).

    cluster = FakeCluster().start()
    scheduler = KubernetesScheduler(settings, api_client=cluster.api_client(), image_ports=cluster.image_port)
"""
import os
import shutil
import tempfile
import threading
import weakref

import yaml

from tests.support.fake_kube.controllers import Controllers
from tests.support.fake_kube.kubelet import Image
from tests.support.fake_kube.server import ApiServer
from tests.support.fake_kube.store import ApiError, Store, now

SUPPORTED_VERSIONS = ("1.30", "1.37")  # the oldest Kubernetes Pier supports, and the newest it is checked with
NODE_LABELS = {"kubernetes.io/hostname": "fake-node-1", "kubernetes.io/os": "linux"}


class FakeCluster:
    def __init__(self, versions=SUPPORTED_VERSIONS):
        self.store = Store(versions)
        self.images = {}  # image name -> Image; an image not here cannot be pulled
        self.exposed = {}  # image name -> the port its configuration exposes
        self.requests = []  # (verb, group, resource) of every request, for the RBAC test
        self.faults = []  # [verb, resource, ApiError, times left, requests to let through first]
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.controllers = Controllers(self)
        self.server = ApiServer(self)
        self.store.create("nodes", None, {"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": "fake-node-1", "labels": dict(NODE_LABELS)}}, validate=False)
        self.folder = tempfile.mkdtemp(prefix="fake-kube-")
        # the kubeconfig outlives stop() (a test may reach for a stopped server); it goes with the object
        weakref.finalize(self, shutil.rmtree, self.folder, True)
        self.kubeconfig = os.path.join(self.folder, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "fake",
                            "clusters": [{"name": "fake", "cluster": {"server": self.server.url}}],
                            "users": [{"name": "pier", "user": {"token": "fake-token"}}],
                            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "pier"}}]}, f)

    def start(self):
        self.server.thread.start()
        self.controllers.start()
        return self

    def stop(self):
        """The API server goes away: its port refuses connections from now on."""
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.controllers.stop()

    def api_client(self):
        from kubernetes import config
        return config.new_client_from_config(config_file=self.kubeconfig)

    # -- what tests set ---------------------------------------------------------------------------------------
    def add_image(self, name, image, exposed_port=None):
        self.images[name] = image
        self.exposed[name] = exposed_port

    def image_port(self, image, credentials=None):
        """What the backend would read from the image's registry: its exposed port."""
        return self.exposed.get(image)

    def label_node(self, **labels):
        self.store.update("nodes", None, "fake-node-1", lambda n: n["metadata"]["labels"].update(labels))

    def fail(self, verb, resource, code, times=1, after=0, message="injected by the test"):
        """The next `times` requests of `verb` on `resource` answer `code` (a Status), after `after` of them
        went through."""
        reasons = {409: "Conflict", 500: "InternalError", 503: "ServiceUnavailable", 410: "Expired"}
        with self.lock:
            self.faults.append([verb, resource, ApiError(code, reasons.get(code, "Unknown"), message), times, after])

    def fault_for(self, verb, resource):
        with self.lock:
            for fault in self.faults:
                if fault[0] == verb and fault[1] == resource and fault[3] > 0:
                    if fault[4] > 0:
                        fault[4] -= 1
                        return None
                    fault[3] -= 1
                    return fault[2]
        return None

    def record(self, verb, group, resource):
        with self.lock:
            self.requests.append((verb, group, resource))

    # -- what tests look at -----------------------------------------------------------------------------------
    def pod(self, namespace, name):
        return self.store.get("pods", namespace, name)

    def evict(self, namespace, name):
        self.controllers.evict(self.pod(namespace, name))

    def crash(self, namespace, name, output):
        """The pod's running container prints `output` and exits 1; the kubelet holds it in back-off."""
        self.controllers.crash(self.pod(namespace, name), output)

    def resolve(self, address):
        """kube-proxy: the local addresses of the ready pods behind the Service at `address` (ClusterIP:port)."""
        host = address.rsplit(":", 1)[0]
        for service in self.store.list("services")[0]:
            if service["spec"].get("clusterIP") == host:
                selector = ",".join(f"{k}={v}" for k, v in service["spec"]["selector"].items())
                pods = self.store.list("pods", service["metadata"]["namespace"], selector)[0]
                found = []
                for pod in pods:
                    runtime = self.controllers.runtime.get(pod["metadata"]["uid"])
                    statuses = (pod.get("status") or {}).get("containerStatuses") or []
                    if (runtime and runtime.container and runtime.container.server and statuses
                            and statuses[0].get("ready") and not pod["metadata"].get("deletionTimestamp")):
                        found.append(runtime.container.address)
                return sorted(found)
        return []

    # -- what the API server does -----------------------------------------------------------------------------
    def schedulable(self, selector):
        nodes = self.store.list("nodes")[0]
        return any(all(n["metadata"]["labels"].get(k) == v for k, v in selector.items()) for n in nodes)

    def pullable(self, pod, image):
        if not image.pull_secret_user:
            return True
        import base64
        import json
        for reference in pod["spec"].get("imagePullSecrets") or []:
            try:
                secret = self.store.get("secrets", pod["metadata"]["namespace"], reference["name"])
            except ApiError:
                continue
            config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
            if any(a.get("username") == image.pull_secret_user for a in config["auths"].values()):
                return True
        return False

    def delete(self, resource, namespace, name, query):
        live = self.store.get(resource, namespace, name)
        if resource == "pods":
            grace = query.get("gracePeriodSeconds")
            self.controllers.delete_pod(live, grace_seconds=int(grace) if grace is not None else None)
        elif resource == "namespaces":
            def terminating(space):
                space["metadata"]["deletionTimestamp"] = now()
                space["status"] = {"phase": "Terminating"}
            self.store.update("namespaces", None, name, terminating)
        else:
            if resource == "deployments":  # the garbage collector deletes what the Deployment owned
                for pod in self.controllers._owned(live):
                    self.controllers.delete_pod(pod)
            self.store.remove(resource, namespace, name)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": name, "kind": resource}}


__all__ = ["FakeCluster", "Image", "SUPPORTED_VERSIONS"]
