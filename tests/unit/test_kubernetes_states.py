"""Kubernetes pod status -> Pier's pod states, and the drift judgement on Deployments, as pure functions."""
import pytest

from workers.scheduler.kubernetes import drift, states
from workers.scheduler.spec import Pod, ReleaseSpec

LABELS = {"pier.io/app": "shop", "pier.io/app-uuid": "u-1", "pier.io/release": "v3", "pier.io/type": "web"}


def pod(phase="Running", state=None, ready=False, last=None, reason=None, leaving=False, labels=LABELS, **status):
    container = {"name": "web", "image": "x", "imageID": "", "ready": ready, "restartCount": 0,
                 "state": state or {}}
    if last:
        container["lastState"] = {"terminated": {"reason": last, "exitCode": 137}}
    found = dict(status, phase=phase, containerStatuses=[container] if state else [], podIP="10.244.0.7")
    if reason:
        found["reason"] = reason
    metadata = {"name": "shop-web-5d8f-abcde", "labels": labels}
    if leaving:
        metadata["deletionTimestamp"] = "2026-12-02T07:00:00Z"
    return {"metadata": metadata, "status": found,
            "spec": {"containers": [{"name": "web", "ports": [{"containerPort": 8080}]}]}}


@pytest.mark.parametrize("given, expected", [
    (pod(state={"running": {}}, ready=True), ("up", True, "", False)),
    (pod(state={"running": {}}), ("starting", False, "", False)),
    (pod(phase="Pending", state={"waiting": {"reason": "ContainerCreating"}}), ("starting", False, "", False)),
    (pod(state={"waiting": {"reason": "CrashLoopBackOff"}}, last="Error"),
     ("crashed", False, "CrashLoopBackOff", True)),
    (pod(state={"waiting": {"reason": "CrashLoopBackOff"}}, last="OOMKilled"),
     ("crashed", False, "OOMKilled", True)),
    (pod(state={"terminated": {"reason": "OOMKilled"}}), ("crashed", False, "OOMKilled", True)),
    (pod(phase="Pending", state={"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}),
     ("error", False, "ImagePullBackOff: Back-off pulling image", True)),
    (pod(phase="Pending", state={"waiting": {"reason": "ErrImagePull"}}), ("error", False, "ErrImagePull", True)),
    (pod(phase="Pending", state={"waiting": {"reason": "InvalidImageName"}}),
     ("error", False, "InvalidImageName", False)),
    (pod(phase="Failed", reason="Evicted", state={"terminated": {"reason": "Error"}}),
     ("crashed", False, "Evicted", False)),
    (pod(phase="Succeeded", state={"terminated": {"reason": "Completed"}}), ("down", False, "Completed", False)),
    (pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]),
     ("starting", False, "Unschedulable", False)),
])
def test_kubernetes_states_reach_the_user_as_piers(given, expected):
    assert states.judge(given) == expected


def test_pods_carry_labels_and_leaving_or_one_off_pods_are_not_listed():
    up = pod(state={"running": {}}, ready=True, startTime="2026-12-02T07:01:02Z")
    [shown] = states.pods_of([up, pod(state={"running": {}}, leaving=True),
                              pod(labels=dict(LABELS, **{"pier.io/type": "run"}))])
    assert shown == Pod(name="shop-web-5d8f-abcde", type="web", release="v3", state="up",
                        started="2026-12-02T07:01:02Z", ready=True, endpoint="10.244.0.7:8080", app_uuid="u-1")
    assert shown.as_api()["state"] == "up"
    crashed = states.to_pod(pod(state={"waiting": {"reason": "CrashLoopBackOff"}}, last="OOMKilled"))
    assert crashed.as_api()["reason"] == "OOMKilled" and crashed.endpoint == ""


SPEC = ReleaseSpec(app="shop", app_uuid="u-1", version=3, image="x")


def deployment(release="v3", replicas=2):
    return {"metadata": {"labels": {"pier.io/release": release}}, "spec": {"replicas": replicas}}


def running(name, state="up", release="v3", recovering=False, reason=""):
    return Pod(name=name, type="web", release=release, state=state, recovering=recovering, reason=reason,
               ready=state == "up")


def test_an_app_kubernetes_is_mending_has_no_drift():
    pods = [running("a"), running("b", state="crashed", recovering=True, reason="CrashLoopBackOff"),
            running("c", state="starting")]
    assert drift.differences(SPEC, {"web": 3}, pods, {"web": deployment(replicas=3)}, set()) == []


def test_what_kubernetes_leaves_is_drift():
    evicted = running("b", state="crashed", reason="Evicted")
    assert drift.differences(SPEC, {"web": 2}, [running("a"), evicted], {"web": deployment()}, set()) == [
        "b is crashed (Evicted) and Kubernetes will not restart it", "web: 1 of 2 up"]
    assert drift.differences(SPEC, {"web": 2, "worker": 1}, [running("a"), running("b")],
                             {"web": deployment(release="v2")}, set())[:2] == [
        "web: its Deployment runs v2, v3 wanted", "worker: no Deployment"]
    assert drift.differences(SPEC, {"web": 2}, [running("a"), running("b")],
                             {"web": deployment(), "clock": deployment(replicas=1)}, set()) == [
        "clock: a Deployment of a type v3 does not have"]


def test_an_autoscaled_type_is_judged_at_the_autoscalers_count():
    pods = [running(n) for n in "abcd"]
    assert drift.differences(SPEC, {"web": 2}, pods, {"web": deployment(replicas=4)}, {"web"}) == []
    assert drift.differences(SPEC, {"web": 2}, pods, {"web": deployment(replicas=4)}, set()) == [
        "web: its Deployment has 4 replicas, 2 wanted", "web: 4 running, 2 wanted"]
