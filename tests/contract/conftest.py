"""Each scheduler backend, behind one fixture: the contract's test functions run once per backend.

A backend here is the scheduler itself plus what a test needs to look behind it: its published endpoints
(a recording `Routing`), a way to kill a process from outside, and the limits a process really runs with.
Every backend runs the same images: the Docker engine's are built from tests/support/apps, and the in-memory
ones and the fake Kubernetes cluster's are registered under the same names with the same behaviour.

The Kubernetes backend talks real HTTP through the official client to the fake API server in
tests/support/fake_kube. It hands the router one Service address per routable type; `endpoints()` here asks
the fake's kube-proxy for the ready pods behind it, so the suite's HTTP checks reach each pod as they reach each
container on Docker. Pod names come from the Deployment's ReplicaSet on Kubernetes, so they change when a
pod is replaced and are not numbered: `stable_pod_names` is False there, and the two tests that check names
check what Kubernetes promises instead.
"""
import threading
import urllib.request
import uuid

import pytest

from tests.conftest import settings_for_tests
from workers.scheduler import ReleaseSpec, Routing
from workers.scheduler.memory import WORLD, Image, MemoryScheduler

BACKENDS = ("memory", "docker", "kubernetes")


class RecordingRouting(Routing):
    """Keeps what the scheduler published: {app: {type: [endpoint]}}."""

    def __init__(self):
        self.published = {}
        self.lock = threading.Lock()

    def publish(self, app_id, endpoints):
        with self.lock:
            self.published[app_id] = {t: sorted(e) for t, e in endpoints.items() if e}
        return 0

    def clear(self, app_id):
        with self.lock:
            self.published.pop(app_id, None)

    def endpoints(self, app_id, process_type="cmd"):
        with self.lock:
            return list(self.published.get(app_id, {}).get(process_type, []))


def get(endpoint, path="/", timeout=5):
    with urllib.request.urlopen(f"http://{endpoint}{path}", timeout=timeout) as response:
        return response.read().decode()


class Backend:
    stable_pod_names = True  # a replaced process keeps its name; numbered from 1 (`<app>.v1.cmd.1`)

    def __init__(self, name, scheduler, routing):
        self.name, self.scheduler, self.routing = name, scheduler, routing
        self.app, self.app_uuid = f"ct-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())

    def spec(self, version=1, image="pier-test/web:one", **changes):
        env = {"DEIS_APP": self.app, "DEIS_RELEASE": f"v{version}"}
        env.update(changes.pop("env", {}))
        return ReleaseSpec(app=self.app, app_uuid=self.app_uuid, version=version, image=image, env=env,
                           dockerfile=True, **changes)

    def endpoints(self, process_type="cmd"):
        return self.routing.endpoints(self.app, process_type)

    def pods(self):
        return self.scheduler.pods(self.app)


class MemoryBackend(Backend):
    def kill(self, pod_name):
        WORLD.kill(pod_name)

    def limits(self, pod_name):
        return WORLD.processes[pod_name].limits

    def cleanup(self):
        self.scheduler.destroy(self.app, self.app_uuid)


class DockerBackend(Backend):
    def __init__(self, name, scheduler, routing, client):
        super().__init__(name, scheduler, routing)
        self.client = client

    def kill(self, pod_name):
        self.client.containers.get(pod_name).kill()

    def limits(self, pod_name):
        host = self.client.containers.get(pod_name).attrs["HostConfig"]
        return {"memory": host["Memory"] or None, "memory_request": host["MemoryReservation"] or None,
                "nano_cpus": host["NanoCpus"] or None}

    def cleanup(self):
        for container in self.client.containers.list(all=True, filters={"label": f"io.pier.app-uuid={self.app_uuid}"}):
            container.remove(force=True)


class KubernetesBackend(Backend):
    stable_pod_names = False

    def __init__(self, name, scheduler, routing, cluster):
        super().__init__(name, scheduler, routing)
        self.cluster = cluster

    def endpoints(self, process_type="cmd"):
        return [pod for service in self.routing.endpoints(self.app, process_type)
                for pod in self.cluster.resolve(service)]

    def kill(self, pod_name):
        """Killed from outside, for good: the kubelet evicts the pod (node pressure); its ReplicaSet starts
        another, and the evicted one stays listed as Failed until someone deletes it."""
        self.cluster.evict(self.app, pod_name)

    def limits(self, pod_name):
        from kubernetes.utils import parse_quantity
        resources = self.cluster.pod(self.app, pod_name)["spec"]["containers"][0].get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        return {"memory": int(parse_quantity(limits["memory"])) if "memory" in limits else None,
                "memory_request": int(parse_quantity(requests["memory"])) if "memory" in requests else None,
                "nano_cpus": int(parse_quantity(limits["cpu"]) * 10 ** 9) if "cpu" in limits else None}

    def cleanup(self):
        self.scheduler.destroy(self.app, self.app_uuid)


def kubernetes_images(cluster):
    from tests.support.fake_kube import Image
    cluster.add_image("pier-test/web:one", Image(body="one"), exposed_port=8080)
    cluster.add_image("pier-test/web:two", Image(body="two"), exposed_port=8080)
    cluster.add_image("pier-test/broken:1", Image(output=(), crash=(1, "boom: the app cannot start", "Error")),
                      exposed_port=8080)


@pytest.fixture(scope="session")
def fake_cluster():
    from tests.support.fake_kube import FakeCluster
    cluster = FakeCluster().start()
    kubernetes_images(cluster)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def docker_client():
    from tests.support.docker_apps import build_images
    return build_images()


def memory_images():
    WORLD.images.update({
        "pier-test/web:one": Image(body="one", exposed_port=8080),
        "pier-test/web:two": Image(body="two", exposed_port=8080),
        "pier-test/broken:1": Image(exposed_port=8080, output=(), crash=(1, "boom: the app cannot start")),
    })


# contract test -> the (verb, group, resource) of every request its Kubernetes run sent: the RBAC test
# (tests/integration/test_kubernetes_scheduler.py) compares them with the service account's permissions
KUBERNETES_REQUESTS = {}


@pytest.fixture(params=BACKENDS)
def backend(request):
    settings = settings_for_tests(scheduler=request.param, deploy_timeout=20.0, drain_seconds=0.0,
                                  stop_grace_seconds=2)
    routing = RecordingRouting()
    if request.param == "memory":
        memory_images()
        made = MemoryBackend("memory", MemoryScheduler(settings, routing), routing)
    elif request.param == "kubernetes":
        from workers.scheduler.kubernetes import KubernetesScheduler
        cluster = request.getfixturevalue("fake_cluster")
        scheduler = KubernetesScheduler(settings, routing, api_client=cluster.api_client(),
                                        image_ports=cluster.image_port)
        made = KubernetesBackend("kubernetes", scheduler, routing, cluster)
        first = len(cluster.requests)
    else:
        from workers.scheduler.docker import DockerScheduler
        client = request.getfixturevalue("docker_client")
        made = DockerBackend("docker", DockerScheduler(settings, routing, client=client), routing, client)
    yield made
    made.cleanup()
    if request.param == "kubernetes":
        KUBERNETES_REQUESTS[request.node.originalname] = set(made.cluster.requests[first:])
