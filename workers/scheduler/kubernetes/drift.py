"""Drift on Kubernetes, as a pure function: desired state against the app's Deployments and pods.

Kubernetes repairs most things by itself: it starts pods that are missing, restarts crashed containers with
its back-off (CrashLoopBackOff) and retries image pulls. Reporting those would only make the reconcile loop
redeploy an app Kubernetes is already mending, so they are not drift. What is: a Deployment that is missing,
runs another release or another replica count, a Deployment of a type the release does not have, and pods
Kubernetes leaves as they are (evicted or failed: they stay listed until someone deletes them).
"""
import dataclasses

from workers.scheduler.drift import differences as pod_differences
from workers.scheduler.kubernetes import manifests


def differences(spec, structure, pods, deployments, autoscaled):
    """Reasons (empty when the app is as it should be). deployments: {type: Deployment}; autoscaled: the
    types an autoscaler sizes (their replica count is its business)."""
    reasons = []
    wanted = {}
    for process_type, count in sorted(structure.items()):
        deployment = deployments.get(process_type)
        if deployment is None:
            if count > 0:
                reasons.append(f"{process_type}: no Deployment")
            wanted[process_type] = count
            continue
        replicas = deployment["spec"].get("replicas", 1)
        release = (deployment["metadata"].get("labels") or {}).get(manifests.RELEASE)
        wanted[process_type] = replicas if process_type in autoscaled else count
        if release != spec.release:
            reasons.append(f"{process_type}: its Deployment runs {release}, {spec.release} wanted")
        elif process_type not in autoscaled and replicas != count:
            reasons.append(f"{process_type}: its Deployment has {replicas} replicas, {count} wanted")
    for process_type in sorted(set(deployments) - set(structure)):
        if deployments[process_type]["spec"].get("replicas", 1):
            reasons.append(f"{process_type}: a Deployment of a type {spec.release} does not have")
    abandoned = [p for p in pods if p.state in ("crashed", "down") and not p.recovering]
    for pod in abandoned:
        reasons.append(f"{pod.name} is {pod.state} ({pod.reason or 'exited'}) and Kubernetes will not restart it")
    # a starting pod is one Kubernetes is bringing up; only the pods it will not mend count against the rest
    mending = [dataclasses.replace(p, recovering=True) if p.state == "starting" else p
               for p in pods if p not in abandoned]
    reasons += pod_differences(spec, wanted, mending)
    return reasons
