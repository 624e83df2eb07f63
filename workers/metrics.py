"""The workers' metrics: operations, builds, reconcile rounds and backups, served by each Celery worker process.

Every Celery worker keeps its samples in prometheus_client's multiprocess mode (core/metrics.py): a worker
started with the prefork pool runs its jobs in forked children, whose counts only reach the main process's
endpoint through those files; the Procfile's thread-pool workers take the same path, so there is one way.

The metrics themselves are made on first use, not at import: Celery imports the task modules before it says
which process this is, and a metric made before the switch to multiprocess mode would count in memory,
where the endpoint never sees it.
"""
import os
import threading

from prometheus_client import Counter, Gauge, Histogram, values

from core.metrics import PORT_OFFSETS, multiprocess_folder, multiprocess_registry, port_for, serve

OPERATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
BUILD_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 900, 1800)


class _Metrics:
    def __init__(self):
        self.operations = Counter("pier_operations", "Operations finished by a worker, by kind and outcome",
                                  ["kind", "outcome"])
        self.operation_seconds = Histogram("pier_operation_duration_seconds",
                                           "How long operations ran on a worker, by kind and outcome",
                                           ["kind", "outcome"], buckets=OPERATION_BUCKETS)
        self.builds = Counter("pier_builds", "Builds finished, by outcome (error: the platform failed)",
                              ["outcome"])
        self.build_seconds = Histogram("pier_build_duration_seconds", "How long builds ran, by outcome",
                                       ["outcome"], buckets=BUILD_BUCKETS)
        self.reconcile_rounds = Counter("pier_reconcile_rounds", "Reconcile rounds over every app")
        self.repairs = Counter("pier_reconcile_repairs", "Repairs enqueued for apps whose processes drifted")
        # the newest backup's end; "max" keeps it through a worker child's exit
        self.backup_success = Gauge("pier_backup_last_success_timestamp_seconds",
                                    "When the newest database backup in the repository ended (Unix time)",
                                    multiprocess_mode="max")


_made = None
_lock = threading.Lock()


def _metrics():
    global _made
    with _lock:
        if _made is None:
            _made = _Metrics()
        return _made


def operation_finished(kind, outcome, seconds):
    metrics = _metrics()
    metrics.operations.labels(kind, outcome).inc()
    metrics.operation_seconds.labels(kind, outcome).observe(seconds)


def build_finished(outcome, seconds):
    metrics = _metrics()
    metrics.builds.labels(outcome).inc()
    metrics.build_seconds.labels(outcome).observe(seconds)


def reconcile_round():
    _metrics().reconcile_rounds.inc()


def repair_enqueued():
    _metrics().repairs.inc()


def backup_ended(timestamp):
    _metrics().backup_success.set(timestamp)


def metrics_process(queues):
    """Which worker this is, for its port: the first of Pier's queues it consumes (core.jobs.QUEUES)."""
    return next((queue for queue in PORT_OFFSETS if queue in queues), None)


def start_endpoint(settings, queues):
    """In a worker's main process, before its pool starts: multiprocess mode, then the endpoint. Returns the
    port, or None (metrics off, a worker of no queue of Pier's, or the port taken)."""
    process = metrics_process(queues)
    if process is None or port_for(settings, process) is None:
        return None
    if _made is not None:
        raise RuntimeError("worker metrics were made before multiprocess mode: they would never be served")
    folder = multiprocess_folder(settings.metrics_folder, process)
    # prometheus_client reads the folder from its environment variable, in this process and in the children
    # it forks; it chose its value class when imported, so it chooses again now that the variable is set
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    values.ValueClass = values.get_value_class()
    return serve(settings, process, multiprocess_registry(folder))
