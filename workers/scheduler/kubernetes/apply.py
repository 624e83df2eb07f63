"""Applying manifests: create when absent, else replace (PUT) at the resourceVersion just read.

Why not server-side apply: Pier is the only writer of the objects it labels, so the whole desired object is
what it means; a PUT guarded by the resourceVersion it read turns every concurrent change into a 409, which
is re-read and tried again here (as client-go's RetryOnConflict does). The few fields someone else owns are
carried over by the caller (`adjust`): the replicas of an autoscaled Deployment, the template's
`restartedAt` of a `rollout restart`. An object that already holds every desired value is not written.
"""
from workers.scheduler.base import SchedulerError
from workers.scheduler.kubernetes.cluster import Conflict, NotFound

CONFLICT_ATTEMPTS = 5


def kinds(cluster):
    """kind -> (read, create, replace, delete) client methods; namespaced ones take (name, namespace)."""
    core, apps, hpa = cluster.core, cluster.apps, cluster.autoscaling
    return {
        "Namespace": (core.read_namespace, core.create_namespace, core.replace_namespace, core.delete_namespace),
        "Secret": (core.read_namespaced_secret, core.create_namespaced_secret, core.replace_namespaced_secret,
                   core.delete_namespaced_secret),
        "Service": (core.read_namespaced_service, core.create_namespaced_service,
                    core.replace_namespaced_service, core.delete_namespaced_service),
        "Deployment": (apps.read_namespaced_deployment, apps.create_namespaced_deployment,
                       apps.replace_namespaced_deployment, apps.delete_namespaced_deployment),
        "HorizontalPodAutoscaler": (hpa.read_namespaced_horizontal_pod_autoscaler,
                                    hpa.create_namespaced_horizontal_pod_autoscaler,
                                    hpa.replace_namespaced_horizontal_pod_autoscaler,
                                    hpa.delete_namespaced_horizontal_pod_autoscaler),
    }


def _where(manifest):
    metadata = manifest["metadata"]
    return (metadata["name"], metadata["namespace"]) if "namespace" in metadata else (metadata["name"],)


def describe(manifest):
    metadata = manifest["metadata"]
    where = f" in namespace {metadata['namespace']}" if "namespace" in metadata else ""
    return f"{manifest['kind']} {metadata['name']}{where}"


def holds(desired, live):
    """Whether `live` already has every value of `desired` (the server adds defaults and status around them)."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(holds(v, live.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        return isinstance(live, list) and len(desired) == len(live) and all(map(holds, desired, live))
    return desired == live


def read(cluster, kind, *where):
    """The live object, or None."""
    try:
        return cluster.call(kinds(cluster)[kind][0], *where, what=f"read {kind} {where[0]}")
    except NotFound:
        return None


def apply(cluster, manifest, adjust=None):
    """Makes the live object hold `manifest`; `adjust(desired, live)` may carry live fields over first.
    Returns the live object."""
    reader, creator, replacer, _ = kinds(cluster)[manifest["kind"]]
    where = _where(manifest)
    namespace = where[1:]
    for _ in range(CONFLICT_ATTEMPTS):
        live = read(cluster, manifest["kind"], *where)
        desired = {**manifest, "metadata": dict(manifest["metadata"])}
        if adjust is not None:
            desired = adjust(desired, live) or desired
        try:
            if live is None:
                return cluster.call(creator, *namespace, desired, what=f"create {describe(manifest)}")
            if holds(desired, live):
                return live
            desired["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
            return cluster.call(replacer, *where, desired, what=f"update {describe(manifest)}")
        except Conflict:
            continue  # changed (or created) since it was read: read it again
    raise SchedulerError(f"{describe(manifest)} kept changing while Pier updated it (409 Conflict "
                         f"{CONFLICT_ATTEMPTS} times); try again.")


def delete(cluster, kind, *where, grace_seconds=None):
    """Deletes an object; one that is already gone is fine."""
    remover = kinds(cluster)[kind][3] if kind in kinds(cluster) else None
    if kind == "Pod":
        remover = cluster.core.delete_namespaced_pod
    options = {} if grace_seconds is None else {"grace_period_seconds": grace_seconds}
    try:
        cluster.call(remover, *where, what=f"delete {kind} {where[0]}", **options)
        return True
    except NotFound:
        return False
