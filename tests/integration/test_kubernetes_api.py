"""Pier through its API on the Kubernetes scheduler: the real API, a real worker and reconcile, the official
client over HTTP, and the fake API server in place of a cluster (no cluster runs here)."""
import pytest

from core.endpoints import Endpoints
from core.extensions import db
from core.models import Operation
from tests.contract.conftest import get, kubernetes_images
from tests.support.fake_kube import FakeCluster
from tests.support.recording_scheduler import settings_changed
from tests.support.waiting import wait_for


@pytest.fixture
def cluster(app, worker):
    made = FakeCluster().start()
    kubernetes_images(made)
    with settings_changed(app, scheduler="kubernetes", kubeconfig=made.kubeconfig, deploy_timeout=20.0,
                          drain_seconds=0.0, stop_grace_seconds=2):
        yield made
    made.stop()


def routed(app, cluster, app_id):
    """What the router was handed (one Service address), and the pods kube-proxy would send it to."""
    [address] = Endpoints(app.config["PIER"].redis_url).read(app_id)["cmd"]
    return address, cluster.resolve(address)


def operations_of(app, app_id, kind):
    with app.app_context():
        found = db.session.execute(db.select(Operation.state).where(
            Operation.app_id == app_id, Operation.kind == kind)).scalars().all()
        db.session.remove()
    return found


def test_an_app_deploys_scales_and_runs_on_the_cluster(app, alice, cluster):
    alice.create_app("kubehello")
    # PORT from config: else the port is read from the image's registry, and these test images are in none
    assert alice.post("/v2/apps/kubehello/config", {"values": {"PORT": "8080"}}).status_code == 201
    assert alice.post("/v2/apps/kubehello/builds", {"image": "pier-test/web:one"}).status_code == 201
    address, [pod] = routed(app, cluster, "kubehello")
    assert get(pod) == "one"
    pods = alice.get("/v2/apps/kubehello/pods").get_json()
    assert pods["count"] == 1 and pods["results"][0]["release"] == "v3" and pods["results"][0]["state"] == "up"
    assert alice.post("/v2/apps/kubehello/scale", {"cmd": 3}).status_code == 204
    assert routed(app, cluster, "kubehello")[0] == address and len(routed(app, cluster, "kubehello")[1]) == 3
    run = alice.post("/v2/apps/kubehello/run", {"command": "printenv DEIS_RELEASE; exit 2"}).get_json()
    assert run == {"exit_code": 2, "output": "v3\n"}
    broken = alice.post("/v2/apps/kubehello/builds", {"image": "pier-test/broken:1"})
    assert broken.status_code == 400 and "boom: the app cannot start" in broken.get_json()["detail"]
    assert [get(p) for p in routed(app, cluster, "kubehello")[1]] == ["one"] * 3


def test_reconcile_leaves_a_healthy_app_alone_and_repairs_what_kubernetes_leaves(app, alice, cluster):
    from workers.runners.reconcile import reconcile_all
    alice.create_app("kubedrift")
    alice.post("/v2/apps/kubedrift/config", {"values": {"PORT": "8080"}})
    alice.post("/v2/apps/kubedrift/builds", {"image": "pier-test/web:one"})
    writes = len(cluster.store.writes)
    with app.app_context():
        assert "kubedrift" not in reconcile_all()
    assert operations_of(app, "kubedrift", "repair") == [] and len(cluster.store.writes) == writes
    [pod] = [p for p in cluster.store.list("pods", "kubedrift")[0]]
    cluster.evict("kubedrift", pod["metadata"]["name"])  # failed for good; its ReplicaSet starts another
    with app.app_context():
        assert "kubedrift" in reconcile_all()
    assert wait_for(lambda: operations_of(app, "kubedrift", "repair") == ["succeeded"])
    with app.app_context():
        assert "kubedrift" not in reconcile_all()
    states = [p["state"] for p in alice.get("/v2/apps/kubedrift/pods").get_json()["results"]]
    assert states == ["up"]
    assert get(routed(app, cluster, "kubedrift")[1][0]) == "one"


def autoscalers(cluster, app_id):
    """{HorizontalPodAutoscaler name: (target Deployment, min, max, CPU utilization aimed at)} in the namespace."""
    return {h["metadata"]["name"]: (h["spec"]["scaleTargetRef"]["name"], h["spec"]["minReplicas"],
                                    h["spec"]["maxReplicas"],
                                    h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"])
            for h in cluster.store.list("horizontalpodautoscalers", app_id)[0]}


def after_rounds(app, cluster, app_id, wanted):
    """Runs autoscale rounds (as beat sends them) until the app's autoscalers are `wanted`: a round leaves an
    app alone while its deploy settles."""
    from workers.runners.autoscale import autoscale_all

    def converged():
        with app.app_context():
            assert autoscale_all() == {}  # Kubernetes sizes the Deployments: the round enqueues no scale
        return autoscalers(cluster, app_id) == wanted
    return wait_for(converged, 30)


def test_autoscale_rules_reach_the_cluster_as_horizontal_pod_autoscalers(app, alice, cluster):
    alice.create_app("kubescaled")
    alice.post("/v2/apps/kubescaled/config", {"values": {"PORT": "8080"}, "cpu": {"cmd": "100m/500m"}})
    rule = {"cmd": {"min": 2, "max": 4, "cpu_percent": 60}}
    assert alice.post("/v2/apps/kubescaled/settings", {"autoscale": rule}).status_code == 201
    assert after_rounds(app, cluster, "kubescaled", {})  # nothing runs yet: nothing to size
    assert alice.post("/v2/apps/kubescaled/builds", {"image": "pier-test/web:one"}).status_code == 201
    assert after_rounds(app, cluster, "kubescaled", {"kubescaled-cmd": ("kubescaled-cmd", 2, 4, 60)})
    writes = len(cluster.store.writes)
    assert after_rounds(app, cluster, "kubescaled", {"kubescaled-cmd": ("kubescaled-cmd", 2, 4, 60)})
    assert len(cluster.store.writes) == writes, "a round with nothing to change wrote to the cluster"

    changed = {"cmd": {"min": 1, "max": 6, "cpu_percent": 50}}
    assert alice.post("/v2/apps/kubescaled/settings", {"autoscale": changed}).status_code == 201
    assert after_rounds(app, cluster, "kubescaled", {"kubescaled-cmd": ("kubescaled-cmd", 1, 6, 50)})
    cluster.store.remove("horizontalpodautoscalers", "kubescaled", "kubescaled-cmd")  # by hand: it comes back
    assert after_rounds(app, cluster, "kubescaled", {"kubescaled-cmd": ("kubescaled-cmd", 1, 6, 50)})

    refused = alice.post("/v2/apps/kubescaled/scale", {"cmd": 3})
    assert refused.status_code == 409 and "cmd is autoscaled" in refused.get_json()["detail"]
    # a deploy keeps the autoscaler and the replicas it set
    cluster.store.update("deployments", "kubescaled", "kubescaled-cmd", lambda d: d["spec"].update(replicas=2))
    assert alice.post("/v2/apps/kubescaled/config", {"values": {"A": "1"}}).status_code == 201
    assert len(routed(app, cluster, "kubescaled")[1]) == 2
    assert after_rounds(app, cluster, "kubescaled", {"kubescaled-cmd": ("kubescaled-cmd", 1, 6, 50)})

    assert alice.post("/v2/apps/kubescaled/settings", {"autoscale": {"cmd": None}}).status_code == 201
    assert after_rounds(app, cluster, "kubescaled", {})
    assert alice.post("/v2/apps/kubescaled/scale", {"cmd": 3}).status_code == 204
    assert len(routed(app, cluster, "kubescaled")[1]) == 3
