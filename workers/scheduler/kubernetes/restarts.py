"""Restarts on Kubernetes, each replacement ready before its predecessor stops.

All pods of a type: a rollout restart (the template's `restartedAt` annotation, as `kubectl rollout restart`
sets it); `maxUnavailable: 0` keeps every old pod until a new one is ready. One pod: the Deployment grows by
one, and once the extra pod is ready it shrinks back with the named pod marked cheapest to delete
(`controller.kubernetes.io/pod-deletion-cost`), so the ReplicaSet removes exactly that one. Pod names
change, as they do on Kubernetes; `ps` shows the new ones.
"""
import time
from datetime import datetime, timezone

from workers.scheduler.base import SchedulerError
from workers.scheduler.kubernetes import manifests, rollout

CHEAPEST = str(-2 ** 31)


def restart_types(scheduler, spec, structure, process_type=None):
    live = rollout.deployments(scheduler.cluster, spec.app)
    running = {p.type for p in scheduler.pods(spec.app)}
    if process_type is not None and process_type not in running:
        raise SchedulerError(f"No pods of {spec.app} match {process_type}.")
    types = [process_type] if process_type else sorted(t for t in live if t in running)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for each in types:
        name = manifests.deployment_name(spec.app, each)
        body = {"spec": {"template": {"metadata": {"annotations": {manifests.RESTARTED_AT: stamp}}}}}
        scheduler.cluster.call(scheduler.cluster.apps.patch_namespaced_deployment, name, spec.app, body,
                               what=f"restart Deployment {name}")
    rollout.wait(scheduler.cluster, spec.app, types, spec.release, scheduler.settings.deploy_timeout)
    return [p for p in scheduler.pods(spec.app) if p.type in types]


def restart_one(scheduler, spec, name):
    pods = scheduler.pods(spec.app)
    victim = next((p for p in pods if p.name == name), None)
    if victim is None:
        raise SchedulerError(f"No pods of {spec.app} match {name}.")
    cluster, deployment = scheduler.cluster, manifests.deployment_name(spec.app, victim.type)
    before = {p.name for p in pods if p.type == victim.type}
    replicas = rollout.deployments(cluster, spec.app)[victim.type]["spec"].get("replicas", 1)

    def resize(count):
        cluster.call(cluster.apps.patch_namespaced_deployment, deployment, spec.app,
                     {"spec": {"replicas": count}}, what=f"scale Deployment {deployment}")

    cluster.call(cluster.core.patch_namespaced_pod, name, spec.app,
                 {"metadata": {"annotations": {manifests.DELETION_COST: CHEAPEST}}},
                 what=f"mark pod {name} to go first")
    resize(replicas + 1)
    try:
        rollout.wait(cluster, spec.app, [victim.type], victim.release, scheduler.settings.deploy_timeout)
    finally:
        resize(replicas)  # the ReplicaSet deletes the cheapest pod: the named one, or a new one that failed
    deadline = time.monotonic() + scheduler.settings.deploy_timeout
    while any(p.name == name for p in scheduler.pods(spec.app)) and time.monotonic() < deadline:
        time.sleep(rollout.POLL_SECONDS)
    return [p for p in scheduler.pods(spec.app) if p.type == victim.type and p.name not in before]
