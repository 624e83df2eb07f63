"""Metrics in Prometheus' text format: which port each process serves them on, and what every process shares.

Each long-lived process serves its own metrics over HTTP (prometheus_client) at `http://PIER_METRICS_HOST:
<PIER_METRICS_PORT_BASE + its offset>/metrics`; the controller serves `/metrics` on its own port instead
(api/metrics.py). Prometheus sums what several processes report, so a process counts only its own work.

A process whose work runs in forked children (gunicorn's workers, the Celery prefork pool) keeps its samples
in prometheus_client's multiprocess mode: each child writes them to files in a folder of the parent's, and
the parent serves their sum. The folder is named after the parent's pid, so a restarted process never counts
the files of its previous life, and two processes on one machine never share one.
"""
import logging
import os
import re
import shutil

# prometheus_client is imported where it is used, not here: gunicorn.conf.py prepares the multiprocess folder
# through this module before prometheus_client may be imported (it chooses its mode once, when imported).

log = logging.getLogger("pier.metrics")

# PIER_METRICS_PORT_BASE + offset; the Celery workers by the queue they consume (core.jobs), the others by name
PORT_OFFSETS = {"builds": 0, "deploys": 1, "runs": 2, "periodic": 3, "watcher": 4, "router": 5, "builder": 6}
_FOLDER = re.compile(r"^(?P<process>[a-z]+)-(?P<pid>[0-9]+)$")


def port_for(settings, process):
    """The port `process` serves its metrics on, or None when PIER_METRICS_PORT_BASE is 0 (no endpoints)."""
    if not settings.metrics_port_base:
        return None
    return settings.metrics_port_base + PORT_OFFSETS[process]


def serve(settings, process, registry=None):
    """Starts the process's metrics endpoint in a thread (serving `registry`, by default prometheus_client's);
    returns its port, or None when metrics are off or the port is taken (a second process of the same kind on
    this machine): the process runs on without one."""
    from prometheus_client import REGISTRY, start_http_server

    port = port_for(settings, process)
    if port is None:
        return None
    try:
        start_http_server(port, addr=settings.metrics_host, registry=registry or REGISTRY)
    except OSError as exc:
        log.warning("no metrics endpoint for %s: %s:%s cannot be bound (%s); give this process another "
                    "PIER_METRICS_PORT_BASE", process, settings.metrics_host, port, exc)
        return None
    log.info("metrics of %s at http://%s:%s/metrics", process, settings.metrics_host, port)
    return port


def multiprocess_folder(parent, process, pid=None):
    """A new, empty folder `<parent>/<process>-<pid>` for the multiprocess files of this process (pid: the
    parent of the forked children); the folders of processes that no longer run go first."""
    pid = os.getpid() if pid is None else pid
    os.makedirs(parent, exist_ok=True)
    for name in os.listdir(parent):
        match = _FOLDER.match(name)
        if match and not _running(int(match["pid"])):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
    folder = os.path.abspath(os.path.join(parent, f"{process}-{pid}"))
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: running
        return True
    return True


def multiprocess_registry(folder):
    """A registry whose samples are the sum of what every process writing to `folder` reports."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)
    return registry


def status_class(status):
    """'2xx' … '5xx' for an HTTP status: a label with five values, whatever the apps answer."""
    text = str(status)
    return f"{text[0]}xx" if len(text) == 3 and text[0] in "12345" and text.isdigit() else "other"
