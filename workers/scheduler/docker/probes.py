"""Readiness and liveness checks run by the worker against a Docker container: httpGet, tcpSocket and exec
probes (API.md 2.4)."""
import http.client
import socket
from datetime import datetime, timezone

from docker.errors import APIError

CONNECT_TIMEOUT = 1.0


def tcp_open(ip, port, timeout=CONNECT_TIMEOUT):
    try:
        with socket.create_connection((ip, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(ip, port, probe):
    timeout = probe.get("timeoutSeconds", 1)
    connection_class = http.client.HTTPSConnection if probe.get("scheme") == "HTTPS" else http.client.HTTPConnection
    connection = connection_class(ip, int(probe.get("port", port)), timeout=timeout)
    headers = {h["name"]: h["value"] for h in probe.get("httpHeaders", [])}
    if probe.get("host"):
        headers["Host"] = probe["host"]
    try:
        connection.request("GET", probe.get("path", "/"), headers=headers)
        return 200 <= connection.getresponse().status < 400
    except (OSError, ValueError, http.client.HTTPException):  # ValueError: a header http.client refuses
        return False
    finally:
        connection.close()


def exec_ok(container, command):
    try:
        return container.exec_run(command).exit_code == 0
    except APIError:
        return False


def seconds_running(container):
    started = container.attrs["State"].get("StartedAt") or ""
    try:
        since = datetime.strptime(started[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return 0.0
    return (datetime.now(timezone.utc) - since).total_seconds()


def passes(container, ip, port, probe, routable):
    """Whether a running container passes `probe` (readiness or liveness). Before the probe's
    initialDelaySeconds it does not count as passing. Without a probe a routable (web/cmd) container is
    ready when its port accepts connections, and any other one as soon as it runs."""
    if probe is None:
        return tcp_open(ip, port) if routable else True
    if seconds_running(container) < probe.get("initialDelaySeconds", 0):
        return False
    if "httpGet" in probe:
        return http_ok(ip, port, dict(probe["httpGet"], timeoutSeconds=probe.get("timeoutSeconds", 1)))
    if "tcpSocket" in probe:
        return tcp_open(ip, probe["tcpSocket"].get("port", port))
    return exec_ok(container, probe["exec"]["command"])
