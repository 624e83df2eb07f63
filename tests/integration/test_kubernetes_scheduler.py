"""The Kubernetes backend beyond the shared contract, through the official client and the fake API server:
faults (an unreachable API server, 409 on apply, 5xx mid-deploy, an expired watch), autoscaling, drift that
leaves Kubernetes' own repairs alone, and the RBAC table against the requests the backend really makes."""
import dataclasses
import inspect
import json
import threading
import time
import uuid

import pytest

from tests.conftest import settings_for_tests
from tests.contract import test_scheduler as contract
from tests.contract.conftest import KUBERNETES_REQUESTS, KubernetesBackend, RecordingRouting, get, kubernetes_images
from tests.support.fake_kube import FakeCluster, Image
from tests.support.waiting import wait_for
from workers.scheduler import SchedulerError, SchedulerUnavailable
from workers.scheduler.kubernetes import KubernetesScheduler, permissions
from workers.scheduler.kubernetes.watch import watch_pods


@pytest.fixture
def cluster():
    made = FakeCluster().start()
    kubernetes_images(made)
    yield made
    if not made.stopping.is_set():
        made.stop()


def backend_on(cluster, **settings):
    values = dict(scheduler="kubernetes", deploy_timeout=20.0, drain_seconds=0.0, stop_grace_seconds=2)
    values.update(settings)
    routing = RecordingRouting()
    scheduler = KubernetesScheduler(settings_for_tests(**values), routing, api_client=cluster.api_client(),
                                    image_ports=cluster.image_port)
    return KubernetesBackend("kubernetes", scheduler, routing, cluster)


@pytest.fixture
def backend(cluster):
    made = backend_on(cluster)
    yield made
    if not cluster.stopping.is_set():
        made.cleanup()


def requests_of(cluster, verb, resource):
    return sum(1 for v, _, r in cluster.requests if (v, r) == (verb, resource))


# -- faults ---------------------------------------------------------------------------------------------------
def test_an_unreachable_api_server_is_named(cluster, backend):
    cluster.stop()
    with pytest.raises(SchedulerUnavailable, match=f"The Kubernetes API at {cluster.server.url} cannot be reached"):
        backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    with pytest.raises(SchedulerUnavailable, match="cannot be reached"):
        backend.scheduler.observe()


def test_a_conflict_on_apply_is_read_again_and_applied(cluster, backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    cluster.fail("update", "deployments", 409, times=2)
    before = requests_of(cluster, "update", "deployments")
    backend.scheduler.deploy(backend.spec(version=2, image="pier-test/web:two"), {"cmd": 1})
    assert requests_of(cluster, "update", "deployments") == before + 3  # two conflicts, then the update
    assert [p.release for p in backend.pods()] == ["v2"] and get(backend.endpoints()[0]) == "two"


def test_conflicts_that_do_not_stop_fail_the_deploy_and_v1_keeps_serving(cluster, backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    cluster.fail("update", "deployments", 409, times=100)
    with pytest.raises(SchedulerError, match="kept changing while Pier updated it"):
        backend.scheduler.deploy(backend.spec(version=2, image="pier-test/web:two"), {"cmd": 1})
    assert [p.release for p in backend.pods()] == ["v1"] and get(backend.endpoints()[0]) == "one"


def test_server_errors_mid_deploy_are_retried(cluster, backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    cluster.fail("list", "pods", 503, times=2)  # while the rollout is watched
    cluster.fail("create", "secrets", 500, times=1)
    backend.scheduler.deploy(backend.spec(version=2, image="pier-test/web:two"), {"cmd": 2})
    assert [p.release for p in backend.pods()] == ["v2", "v2"]


def test_a_server_that_keeps_failing_mid_deploy_fails_it_and_v1_keeps_serving(cluster, backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    cluster.fail("update", "deployments", 500, times=100)
    with pytest.raises(SchedulerError, match="The Kubernetes API answered 500 to update Deployment"):
        backend.scheduler.deploy(backend.spec(version=2, image="pier-test/web:two"), {"cmd": 1})
    assert [p.release for p in backend.pods()] == ["v1"] and get(backend.endpoints()[0]) == "one"


def test_a_deploy_that_fails_halfway_through_its_types_rolls_the_changed_ones_back(cluster, backend):
    backend.scheduler.deploy(backend.spec(procfile={"worker": "sleep 1000"}), {"cmd": 1, "worker": 1})
    cluster.fail("update", "deployments", 500, times=4, after=1)  # cmd's update goes through, worker's never
    with pytest.raises(SchedulerError, match="answered 500 to update Deployment .*-worker"):
        backend.scheduler.deploy(backend.spec(version=2, image="pier-test/web:two", procfile={"worker": "sleep 1"}),
                                 {"cmd": 1, "worker": 1})
    assert [(p.type, p.release) for p in backend.pods()] == [("cmd", "v1"), ("worker", "v1")]
    assert get(backend.endpoints()[0]) == "one"


def test_a_watch_that_expires_lists_again_and_goes_on(cluster, backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    changed, stop = [], threading.Event()
    watcher = threading.Thread(target=watch_pods, args=(
        backend.scheduler.cluster, "pier.io/app", changed.append, stop), kwargs={"seconds": 1})
    watcher.start()
    try:
        assert wait_for(lambda: requests_of(cluster, "watch", "pods") >= 1)
        lists = requests_of(cluster, "list", "pods")
        cluster.store.compact()  # the watch is cut; resuming from its last version answers 410
        assert wait_for(lambda: requests_of(cluster, "list", "pods") > lists and backend.app in changed)
        changed.clear()
        backend.kill(backend.pods()[0].name)
        assert wait_for(lambda: backend.app in changed)
        cluster.fail("watch", "pods", 410)  # the 410 as the answer itself
        lists = requests_of(cluster, "list", "pods")
        assert wait_for(lambda: requests_of(cluster, "list", "pods") > lists)
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()


# -- what Kubernetes mends is not drift -----------------------------------------------------------------------
def test_a_healthy_app_has_no_drift_and_reconcile_sends_nothing(cluster, backend):
    spec = backend.spec(procfile={"worker": "sleep 1000"})
    backend.scheduler.deploy(spec, {"cmd": 2, "worker": 1})
    writes = len(cluster.store.writes)
    assert backend.scheduler.drift(spec, {"cmd": 2, "worker": 1}, backend.pods()) == []
    assert backend.scheduler.drift(spec, {"cmd": 3, "worker": 1}, backend.pods()) == [
        "cmd: its Deployment has 2 replicas, 3 wanted", "cmd: 2 of 3 up"]
    backend.scheduler.deploy(spec, {"cmd": 2, "worker": 1})  # a repair of a fine app writes nothing
    assert len(cluster.store.writes) == writes


def test_a_crash_loop_is_left_to_kubernetes(cluster, backend):
    spec = backend.spec()
    backend.scheduler.deploy(spec, {"cmd": 1})
    cluster.add_image("pier-test/web:one", Image(output=(), crash=(137, "killed", "OOMKilled")), exposed_port=8080)
    try:
        [pod] = backend.pods()
        cluster.controllers.delete_pod(cluster.pod(backend.app, pod.name), grace_seconds=0)
        assert wait_for(lambda: any(p.state == "crashed" for p in backend.pods()))
    finally:
        kubernetes_images(cluster)
    [crashed] = backend.pods()
    assert (crashed.state, crashed.reason, crashed.recovering) == ("crashed", "OOMKilled", True)
    assert backend.scheduler.drift(spec, {"cmd": 1}, backend.pods()) == []


def test_a_crash_loops_output_is_collected_once_for_each_run(cluster, backend):
    """Two crashes: one of a pod whose log was being followed, one of a pod that crashes as it starts and so is
    never seen running. Each run's lines arrive once, and a run that ended is not read again every second."""
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    lines, stop = [], threading.Event()
    collector = threading.Thread(target=backend.scheduler.collect_logs, args=(lambda *line: lines.append(line), stop))
    collector.start()
    try:
        [followed] = backend.pods()
        assert wait_for(lambda: any("listening on 8080" in line[3] for line in lines))
        cluster.crash(backend.app, followed.name, "boom: the database is gone")
        assert wait_for(lambda: any("boom" in line[3] for line in lines))
        cluster.add_image("pier-test/web:one", Image(output=(), crash=(1, "boom: cannot start", "Error")),
                          exposed_port=8080)
        cluster.controllers.delete_pod(cluster.pod(backend.app, followed.name), grace_seconds=0)
        assert wait_for(lambda: any("cannot start" in line[3] for line in lines))
        reads = requests_of(cluster, "get", "pods/log")
        time.sleep(2.5)  # two listings or more
        assert requests_of(cluster, "get", "pods/log") == reads, "a run that ended was read again"
    finally:
        stop.set()
        collector.join(timeout=10)
        kubernetes_images(cluster)
    texts = [text for app, _, _, text in lines if app == backend.app]
    assert [texts.count(t) for t in ("listening on 8080", "boom: the database is gone", "boom: cannot start")] == [
        1, 1, 1], texts
    [crashed] = backend.pods()
    assert {pod for _, pod, _, text in lines if "cannot start" in text} == {crashed.name} != {followed.name}


def test_image_pull_errors_fail_the_deploy_with_the_reason(backend):
    with pytest.raises(SchedulerError, match="could not start: (ErrImagePull|ImagePullBackOff)"):
        backend.scheduler.deploy(backend.spec(image="pier-test/nowhere:1"), {"cmd": 1})
    assert backend.pods() == []


def test_private_images_are_pulled_with_the_apps_credentials(cluster, backend):
    cluster.add_image("registry.example.com/acme/private:1", Image(body="private", pull_secret_user="ada"),
                      exposed_port=8080)
    with pytest.raises(SchedulerError, match="could not start"):
        backend.scheduler.deploy(backend.spec(image="registry.example.com/acme/private:1"), {"cmd": 1})
    backend.scheduler.deploy(backend.spec(version=2, image="registry.example.com/acme/private:1",
                                          registry={"username": "ada", "password": "pw"}), {"cmd": 1})
    assert get(backend.endpoints()[0]) == "private"


def test_a_one_off_past_its_time_limit_is_killed_and_removed(cluster, backend):
    backend.scheduler.settings = dataclasses.replace(backend.scheduler.settings, job_time_limit=1)
    with pytest.raises(SchedulerError, match="did not finish within 1s"):
        backend.scheduler.run(backend.spec(), "sleep 30")
    assert not [p for p in cluster.store.list("pods", backend.app)[0]
                if not p["metadata"].get("deletionTimestamp")]


def test_the_router_gets_one_service_address_however_many_pods(backend):
    spec = backend.spec()
    backend.scheduler.deploy(spec, {"cmd": 1})
    [address] = backend.routing.endpoints(backend.app)
    backend.scheduler.scale(spec, {"cmd": 3})
    backend.scheduler.restart(spec, {"cmd": 3})
    assert backend.routing.endpoints(backend.app) == [address] and len(backend.endpoints()) == 3


# -- autoscaling ----------------------------------------------------------------------------------------------
def test_autoscale_creates_changes_and_removes_autoscalers(cluster, backend):
    spec = backend.spec(cpu={"cmd": "100m/500m"})
    backend.scheduler.deploy(spec, {"cmd": 1})
    backend.scheduler.autoscale(spec, {"cmd": {"min": 2, "max": 5, "cpu_percent": 70}})
    [hpa] = cluster.store.list("horizontalpodautoscalers", backend.app)[0]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    backend.scheduler.autoscale(spec, {"cmd": {"min": 1, "max": 3, "cpu_percent": 50}})
    [hpa] = cluster.store.list("horizontalpodautoscalers", backend.app)[0]
    assert hpa["spec"]["maxReplicas"] == 3
    # the autoscaler owns the replica count: a deploy keeps what it set
    cluster.store.update("deployments", backend.app, f"{backend.app}-cmd", lambda d: d["spec"].update(replicas=2))
    backend.scheduler.deploy(backend.spec(version=2, cpu={"cmd": "100m/500m"}), {"cmd": 1})
    assert len(backend.pods()) == 2
    backend.scheduler.autoscale(spec, {})
    assert cluster.store.list("horizontalpodautoscalers", backend.app)[0] == []


def test_other_backends_refuse_autoscaling():
    from workers.scheduler.memory import MemoryScheduler
    with pytest.raises(SchedulerError, match="autoscaling is not supported by this scheduler"):
        MemoryScheduler(settings_for_tests()).autoscale(None, {"web": {"min": 1, "max": 2, "cpu_percent": 50}})


# -- the RBAC table -------------------------------------------------------------------------------------------
def _contract_tests():
    return [f for name, f in inspect.getmembers(contract, inspect.isfunction) if name.startswith("test_")]


def _contract_requests(cluster):
    """What the shared contract suite sends on Kubernetes: recorded by tests/contract when every one of its tests
    ran on Kubernetes in this session (the whole suite), else each is run here on `cluster`."""
    tests = _contract_tests()
    if {test.__name__ for test in tests} <= KUBERNETES_REQUESTS.keys():
        return set().union(*(KUBERNETES_REQUESTS[test.__name__] for test in tests))
    for test in tests:
        made = backend_on(cluster)
        made.app, made.app_uuid = f"rb-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
        try:
            test(made)
        finally:
            made.cleanup()
    return set()


def test_the_rbac_table_lists_exactly_what_the_backend_uses(cluster):
    contract_requests = _contract_requests(cluster)
    made = backend_on(cluster)
    spec = made.spec()
    made.scheduler.deploy(spec, {"cmd": 1})
    made.scheduler.autoscale(spec, {"cmd": {"min": 1, "max": 2, "cpu_percent": 60}})
    made.scheduler.autoscale(spec, {"cmd": {"min": 1, "max": 3, "cpu_percent": 60}})
    made.scheduler.autoscale(spec, {})
    # edited by hand, then put back by a deploy
    cluster.store.update("secrets", made.app, "env-v1", lambda o: o["data"].update(PORT="MQ=="))
    cluster.store.update("services", made.app, "cmd", lambda o: o["spec"]["ports"][0].update(port=81))
    made.scheduler.deploy(spec, {"cmd": 1})
    assert cluster.store.get("services", made.app, "cmd")["spec"]["ports"][0]["port"] == 80
    for version in (2, 3):  # v1's Secret goes once two later releases ran; the web type's Service with it
        made.scheduler.deploy(made.spec(version=version), {"cmd": 1} if version == 3 else {"cmd": 1, "web": 1})
    assert [s["metadata"]["name"] for s in cluster.store.list("secrets", made.app)[0]] == ["env-v2", "env-v3"]
    assert [s["metadata"]["name"] for s in cluster.store.list("services", made.app)[0]] == ["cmd"]
    stop = threading.Event()
    watcher = threading.Thread(target=made.scheduler.watch, args=(lambda app: None, stop))
    watcher.start()
    assert wait_for(lambda: requests_of(cluster, "watch", "pods") >= 1)
    stop.set()
    watcher.join(timeout=15)
    made.cleanup()
    used = {(group, resource, verb) for verb, group, resource in set(cluster.requests) | contract_requests}
    assert sorted(used - permissions.as_set()) == [], "used but not in PERMISSIONS"
    assert sorted(permissions.as_set() - used) == [], "in PERMISSIONS but never used"


def test_every_write_was_valid_for_each_supported_version(cluster, backend):
    backend.scheduler.deploy(backend.spec(memory={"cmd": "64M/128M"}), {"cmd": 1})
    assert {w["kind"] for w in cluster.store.writes} >= {"Namespace", "Secret", "Deployment", "Service"}
    with pytest.raises(SchedulerError, match="Kubernetes refused to create Deployment .* is invalid for Kubernetes"):
        backend.scheduler.cluster.call(backend.scheduler.cluster.apps.create_namespaced_deployment, backend.app, {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "x", "image": "x",
                                                                           "memoryLimit": "1"}]}}}},
            what="create Deployment bad")


# -- choosing the backend -------------------------------------------------------------------------------------
def test_pier_scheduler_kubernetes_reaches_the_cluster_of_the_kubeconfig(cluster, tmp_path):
    from workers.scheduler import get_scheduler
    scheduler = get_scheduler(settings_for_tests(scheduler="kubernetes", kubeconfig=cluster.kubeconfig))
    assert isinstance(scheduler, KubernetesScheduler) and scheduler.observe() == {}
    with pytest.raises(SchedulerUnavailable, match="No Kubernetes cluster is configured: set PIER_KUBECONFIG"):
        get_scheduler(settings_for_tests(scheduler="kubernetes", kubeconfig=str(tmp_path / "missing")))


def test_tags_that_a_node_carries_place_the_pods(cluster, backend):
    cluster.label_node(region="eu", disk="ssd")
    backend.scheduler.deploy(backend.spec(tags={"region": "eu", "disk": "ssd"}), {"cmd": 1})
    [pod] = backend.pods()
    assert cluster.pod(backend.app, pod.name)["spec"]["nodeSelector"] == {"region": "eu", "disk": "ssd"}
    with pytest.raises(SchedulerError, match="No nodes matched the provided labels: disk=hdd"):
        backend.scheduler.deploy(backend.spec(version=2, tags={"region": "eu", "disk": "hdd"}), {"cmd": 1})


def test_the_fake_answers_an_expired_watch_as_kubernetes_does(cluster):
    """The official client's own watch helper sees the fake's 410 as it would a real API server's."""
    from kubernetes import client, watch
    from kubernetes.client.exceptions import ApiException
    core = client.CoreV1Api(cluster.api_client())
    cluster.store.compact()
    with pytest.raises(ApiException) as expired:
        for _ in watch.Watch().stream(core.list_pod_for_all_namespaces, resource_version="1", timeout_seconds=2):
            pass
    assert expired.value.status == 410
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("nothing", "default")
    assert missing.value.status == 404 and '"reason": "NotFound"' in missing.value.body


def test_the_fake_refuses_logs_as_the_kubelet_does(cluster, backend):
    """No log of a container that never ran, and no previous run of one that never ended."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    [running] = backend.pods()
    core = client.CoreV1Api(cluster.api_client())
    unpulled = {"containers": [{"name": "main", "image": "pier-test/nowhere:1"}]}
    core.create_namespaced_pod(backend.app, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "unpulled"},
                                             "spec": unpulled})
    assert wait_for(lambda: (cluster.pod(backend.app, "unpulled").get("status") or {}).get("containerStatuses"))
    for pod, previous, message in (("unpulled", False, 'container "main" in pod "unpulled" is waiting to start: '),
                                   (running.name, True, "previous terminated container")):
        with pytest.raises(ApiException) as refused:
            core.read_namespaced_pod_log(pod, backend.app, previous=previous)
        assert refused.value.status == 400 and message in json.loads(refused.value.body)["message"]
    assert "listening on 8080" in core.read_namespaced_pod_log(running.name, backend.app)
