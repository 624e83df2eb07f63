"""Kubernetes pod status -> Pier's pod states (`up`, `starting`, `crashed`, `down`, `error`), as pure functions
of the pod objects the API returns (plain dicts, as JSON has them)."""
from workers.scheduler.kubernetes import manifests
from workers.scheduler.spec import ROUTABLE_TYPES, Pod

# waiting reasons of a container the kubelet is retrying by itself (with its back-off)
CRASHING = {"CrashLoopBackOff", "RunContainerError", "CreateContainerError", "PostStartHookError"}
CANNOT_START = {"ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError", "ErrImageNeverPull",
                "InvalidImageName"}
NEVER_RECOVERS = {"InvalidImageName", "ErrImageNeverPull"}
STARTING = {"ContainerCreating", "PodInitializing"}


def _container(pod):
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return statuses[0] if statuses else {}


def _last_reason(status):
    return ((status.get("lastState") or {}).get("terminated") or {}).get("reason") or ""


def judge(pod):
    """(state, ready, reason, recovering) of one pod."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    container = _container(pod)
    state = container.get("state") or {}
    if phase == "Succeeded":
        return "down", False, status.get("reason") or "Completed", False
    if phase == "Failed":  # evicted, past its deadline, or a one-off that failed: nothing restarts it
        terminated = state.get("terminated") or {}
        return "crashed", False, status.get("reason") or terminated.get("reason") or "Failed", False
    if "waiting" in state:
        reason = state["waiting"].get("reason") or ""
        if reason in CRASHING:
            return "crashed", False, "OOMKilled" if _last_reason(container) == "OOMKilled" else reason, True
        if reason in CANNOT_START:
            message = state["waiting"].get("message") or ""
            return "error", False, f"{reason}: {message}" if message else reason, reason not in NEVER_RECOVERS
        return "starting", False, "" if reason in STARTING else reason, False
    if "terminated" in state:  # between a crash and the kubelet's restart
        return "crashed", False, state["terminated"].get("reason") or "Error", True
    if "running" in state:
        ready = bool(container.get("ready"))
        return ("up" if ready else "starting"), ready, "", False
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return "starting", False, condition.get("reason") or "Unschedulable", False
    return "starting", False, "", False


def leaving(pod):
    """A pod being deleted: out of its Service already, draining; `ps` and drift no longer count it."""
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def is_process(pod):
    found = (pod.get("metadata") or {}).get("labels") or {}
    return manifests.TYPE in found and found[manifests.TYPE] != manifests.RUN_TYPE and manifests.RELEASE in found


def to_pod(pod):
    metadata, status = pod["metadata"], pod.get("status") or {}
    found = metadata.get("labels") or {}
    process_type = found[manifests.TYPE]
    state, ready, reason, recovering = judge(pod)
    endpoint = ""
    if state == "up" and process_type in ROUTABLE_TYPES and status.get("podIP"):
        ports = (pod["spec"]["containers"][0].get("ports") or [{}])
        endpoint = f"{status['podIP']}:{ports[0].get('containerPort', manifests.DEFAULT_PORT)}"
    started = (status.get("startTime") or "")[:19]
    return Pod(name=metadata["name"], type=process_type, release=found.get(manifests.RELEASE, ""), state=state,
               started=started + "Z" if started else "", ready=ready, reason=reason, recovering=recovering,
               endpoint=endpoint, app_uuid=found.get(manifests.APP_UUID, ""))


def pods_of(items):
    """Pier's pods among a pod list's items, leaving pods out that are on their way out, sorted as `ps` shows them."""
    return sorted((to_pod(p) for p in items if is_process(p) and not leaving(p)), key=lambda p: (p.type, p.name))


def failure(pod):
    """Why a pod keeps a rollout from completing, in words, or '' when nothing is wrong yet."""
    state, _, reason, _ = judge(pod)
    if state in ("crashed", "error"):
        return reason or state
    return ""
