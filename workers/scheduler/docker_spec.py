"""Container specs for the Docker scheduler, as pure data: no Docker calls here."""
import re
from datetime import datetime, timezone

NETWORK = "pier"
LABEL = "io.pier"
ROUTABLE_TYPES = ("web", "cmd")
DEFAULT_PORT = 5000
UNITS = {"B": 1, "K": 1024, "KB": 1024, "M": 1024 ** 2, "MB": 1024 ** 2, "G": 1024 ** 3, "GB": 1024 ** 3}


def labels(spec, process_type, index):
    return {f"{LABEL}.app": spec["app"], f"{LABEL}.app-uuid": spec["app_uuid"],
            f"{LABEL}.release": f"v{spec['version']}", f"{LABEL}.type": process_type,
            f"{LABEL}.index": str(index)}


def container_name(spec, process_type, index):
    return f"{spec['app']}-v{spec['version']}-{process_type}-{index}"


def memory_bytes(text):
    number, unit = re.fullmatch(r"([0-9]+)([A-Za-z]*)", text).groups()
    return int(number) * UNITS[unit.upper() or "B"]


def memory_limits(value):
    """'512M' -> limit; '256M/512M' -> reservation and limit."""
    if not value:
        return {}
    request, _, limit = value.partition("/")
    if limit:
        return {"mem_reservation": memory_bytes(request), "mem_limit": memory_bytes(limit)}
    return {"mem_limit": memory_bytes(request)}


def cpus(text):
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def cpu_limits(value):
    """'500m' -> half a core at most; '100m/500m' -> a relative share for the request, a cap for the limit."""
    if not value:
        return {}
    request, _, limit = value.partition("/")
    if limit:
        return {"cpu_shares": max(2, int(cpus(request) * 1024)), "nano_cpus": int(cpus(limit) * 1e9)}
    return {"nano_cpus": int(cpus(request) * 1e9)}


def port_for(spec, exposed_ports):
    """PORT from config, else the image's first exposed TCP port, else 5000 (buildpack apps)."""
    if "PORT" in spec["env"]:
        return int(spec["env"]["PORT"])
    tcp = sorted(int(p.split("/")[0]) for p in exposed_ports if p.endswith("/tcp") or "/" not in p)
    return tcp[0] if tcp else DEFAULT_PORT


def command_for(spec, process_type):
    """The Procfile command, run by a shell inside the container as Heroku does; None runs the image's
    own CMD (the `cmd` type of an image without a Procfile)."""
    command = spec["procfile"].get(process_type)
    return ["/bin/sh", "-c", command] if command else None


def container_spec(spec, process_type, index, port):
    env = dict(spec["env"], PORT=str(port))
    return {
        "name": container_name(spec, process_type, index),
        "image": spec["image"],
        "command": command_for(spec, process_type),
        "environment": env,
        "labels": labels(spec, process_type, index),
        "network": NETWORK,
        "restart_policy": {"Name": "unless-stopped"},
        "stop_signal": "SIGTERM",
        # docker-init as PID 1: the app gets SIGTERM's default action (PID 1 would ignore it) and zombies are reaped
        "init": True,
        "detach": True,
        **memory_limits(spec["memory"].get(process_type)),
        **cpu_limits(spec["cpu"].get(process_type)),
    }


def run_spec(spec, command, port):
    return {
        "image": spec["image"],
        "command": ["/bin/sh", "-c", command],
        "environment": dict(spec["env"], PORT=str(port)),
        "labels": {f"{LABEL}.app": spec["app"], f"{LABEL}.app-uuid": spec["app_uuid"],
                   f"{LABEL}.release": f"v{spec['version']}", f"{LABEL}.type": "run"},
        "network": NETWORK,
        "detach": True,
        "init": True,
        **memory_limits(spec["memory"].get("run") or spec["memory"].get("web")),
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
