"""Each scheduler backend, behind one fixture: the contract's test functions run once per backend.

A backend here is the scheduler itself plus what a test needs to look behind it: its published endpoints
(a recording `Routing`), a way to kill a process from outside, and the limits a process really runs with.
Both backends run the same images: the Docker engine's are built from tests/support/apps, and the in-memory
ones are registered under the same names with the same behaviour.
"""
import threading
import urllib.request
import uuid

import pytest

from tests.conftest import settings_for_tests
from workers.scheduler import ReleaseSpec, Routing
from workers.scheduler.memory import WORLD, Image, MemoryScheduler

BACKENDS = ("memory", "docker")


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


@pytest.fixture(params=BACKENDS)
def backend(request):
    settings = settings_for_tests(scheduler=request.param, deploy_timeout=20.0, drain_seconds=0.0,
                                  stop_grace_seconds=2)
    routing = RecordingRouting()
    if request.param == "memory":
        memory_images()
        made = MemoryBackend("memory", MemoryScheduler(settings, routing), routing)
    else:
        from workers.scheduler.docker import DockerScheduler
        client = request.getfixturevalue("docker_client")
        made = DockerBackend("docker", DockerScheduler(settings, routing, client=client), routing, client)
    yield made
    made.cleanup()
