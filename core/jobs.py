"""Jobs crossing from the controller and the builder to the workers: task names, their queues, and sending.

Messages carry ids and plain values, JSON-serialized. Each queue has workers of its own (see the Procfile),
so a slow build never delays a deploy, and a tenant's one-off runs never delay anyone's deploys.
"""
import threading

BUILDS, DEPLOYS, RUNS, PERIODIC = "builds", "deploys", "runs", "periodic"
QUEUES = (BUILDS, DEPLOYS, RUNS, PERIODIC)

def operation_channel(operation_uuid):
    """The Redis channel an operation's end is published on (its state), for whoever waits on it."""
    return f"pier:operations:{operation_uuid}"


# task name -> queue
TASK_QUEUES = {
    "build.app": BUILDS,
    "deploy.release": DEPLOYS,
    "app.scale": DEPLOYS,
    "app.restart": DEPLOYS,
    "app.destroy": DEPLOYS,
    "app.repair": DEPLOYS,
    "app.run": RUNS,
    "reconcile.apps": PERIODIC,
    "liveness.check": PERIODIC,
    "operations.watch": PERIODIC,
    "reconcile.app": PERIODIC,
    "backups.take": PERIODIC,
    "backups.schedule": PERIODIC,
    "backups.observe": PERIODIC,
    "gc.collect": PERIODIC,
    "gc.schedule": PERIODIC,
    "autoscale.apps": PERIODIC,
}

_producers = {}
_lock = threading.Lock()


def producer(broker_url):
    """A Celery app that only sends (no tasks are registered in it), one per broker and process."""
    with _lock:
        celery = _producers.get(broker_url)
        if celery is None:
            from celery import Celery
            celery = Celery("pier-producer", broker=broker_url, set_as_current=False)
            celery.conf.update(task_serializer="json", accept_content=["json"],
                               broker_connection_retry_on_startup=True)
            _producers[broker_url] = celery
        return celery


def send(broker_url, task, args=(), kwargs=None):
    """Enqueues `task` on its queue; raises if the broker cannot take the message."""
    producer(broker_url).send_task(task, args=list(args), kwargs=kwargs or {}, queue=TASK_QUEUES[task])
