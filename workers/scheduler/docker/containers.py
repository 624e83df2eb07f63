"""Container specs for the Docker scheduler, as pure data: no Docker calls here."""
from datetime import datetime, timezone

from core.units import cpus, memory_bytes, request_and_limit
from workers.scheduler.spec import ROUTABLE_TYPES

# One bridge for every app's containers, with inter-container traffic off: the host (the router) reaches each
# container, a container reaches the internet, and no container reaches another, of its app or any other.
# (A network per app would run out of Docker's default address pools after about 30 apps.)
NETWORK = "pier-apps"
NETWORK_OPTIONS = {"com.docker.network.bridge.enable_icc": "false"}
LABEL = "io.pier"
# What a process may do as root in its container: Docker's defaults less raw sockets, device nodes, chroot,
# file capabilities and audit writes; with no-new-privileges, no program can gain more.
CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "NET_BIND_SERVICE", "KILL"]
DEFAULT_PORT = 5000
RUN_TYPE = "run"  # the io.pier.type label of one-off containers


def label(name):
    return f"{LABEL}.{name}"


def labels(spec, process_type, index):
    return {label("app"): spec.app, label("app-uuid"): spec.app_uuid, label("release"): spec.release,
            label("type"): process_type, label("index"): str(index)}


def container_name(spec, process_type, index):
    """'<app>.v<N>.<type>.<index>': app names and process types hold no dots, so no two apps' (or types')
    names can ever meet, whatever they are called."""
    return f"{spec.app}.{spec.release}.{process_type}.{index}"


def hardening(settings):
    """What every app container runs with, whatever its image says."""
    return {"security_opt": ["no-new-privileges"], "cap_drop": ["ALL"], "cap_add": CAPABILITIES,
            "pids_limit": settings.container_pids}


def memory_limits(value, default=None):
    """'512M' -> limit; '256M/512M' -> reservation and limit; no value -> the platform's default limit."""
    request, limit = request_and_limit(value or default)
    limits = {}
    if limit:
        limits["mem_limit"] = memory_bytes(limit)
    if request:
        limits["mem_reservation"] = memory_bytes(request)
    return limits


def cpu_limits(value):
    """'500m' -> half a core at most; '100m/500m' -> a relative share for the request, a cap for the limit."""
    request, limit = request_and_limit(value)
    limits = {}
    if limit:
        limits["nano_cpus"] = int(cpus(limit) * 1e9)
    if request:
        limits["cpu_shares"] = max(2, int(cpus(request) * 1024))
    return limits


def cores_used(stats):
    """Cores a container used between the two samples of one `docker stats --no-stream` answer (the engine
    takes them about a second apart), or None when the answer holds no earlier sample (it just started)."""
    now, before = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    if not before.get("system_cpu_usage") or not now.get("system_cpu_usage"):
        return None
    used = now["cpu_usage"]["total_usage"] - before["cpu_usage"]["total_usage"]
    elapsed = now["system_cpu_usage"] - before["system_cpu_usage"]  # summed over every core of the host
    cores = now.get("online_cpus") or len(now["cpu_usage"].get("percpu_usage") or []) or 1
    if elapsed <= 0 or used < 0:
        return None
    return used / elapsed * cores


def port_for(spec, exposed_ports):
    """PORT from config, else the image's first exposed TCP port, else 5000 (buildpack apps)."""
    if "PORT" in spec.env:
        return int(spec.env["PORT"])
    tcp = sorted(int(p.split("/")[0]) for p in exposed_ports if p.endswith("/tcp") or "/" not in p)
    return tcp[0] if tcp else DEFAULT_PORT


def command_for(spec, process_type):
    """The Procfile command, run by a shell inside the container as Heroku does; None runs the image's
    own CMD (the `cmd` type of an image without a Procfile)."""
    command = spec.command(process_type)
    return ["/bin/sh", "-c", command] if command else None


def container_spec(spec, process_type, index, port, settings):
    return {
        "name": container_name(spec, process_type, index),
        "image": spec.image,
        "command": command_for(spec, process_type),
        "environment": dict(spec.env, PORT=str(port)),
        "labels": labels(spec, process_type, index),
        "network": NETWORK,
        "restart_policy": {"Name": "unless-stopped"},
        "stop_signal": "SIGTERM",
        # docker-init as PID 1: the app gets SIGTERM's default action (PID 1 would ignore it) and zombies are reaped
        "init": True,
        "detach": True,
        **hardening(settings),
        **memory_limits(spec.memory.get(process_type), settings.container_memory),
        **cpu_limits(spec.cpu.get(process_type)),
    }


def run_spec(spec, command, port, settings):
    return {
        "image": spec.image,
        "command": ["/bin/sh", "-c", command],
        "environment": dict(spec.env, PORT=str(port)),
        "labels": {label("app"): spec.app, label("app-uuid"): spec.app_uuid, label("release"): spec.release,
                   label("type"): RUN_TYPE},
        "network": NETWORK,
        "detach": True,
        "init": True,
        **hardening(settings),
        **memory_limits(spec.memory.get(RUN_TYPE) or spec.memory.get("web"), settings.container_memory),
    }


def unmatched_tags(tags, engine_labels):
    """Tags the engine's labels (`key=value` strings from `docker info`) do not carry."""
    have = dict(label.split("=", 1) for label in engine_labels if "=" in label)
    return {k: v for k, v in tags.items() if have.get(k) != v}


def epoch_seconds(stamp):
    """'2026-11-25T19:05:01.123456789Z' -> seconds since the epoch, a little early (Docker's `since`)."""
    whole = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return whole.timestamp() - 1.0


def pod_state(container_status, exit_code, restarting):
    if restarting:
        return "crashed"
    if container_status == "running":
        return "up"
    if container_status in ("created",):
        return "starting"
    if container_status == "exited" and exit_code not in (0, None):
        return "crashed"
    return "down"


def routable(process_type):
    return process_type in ROUTABLE_TYPES
