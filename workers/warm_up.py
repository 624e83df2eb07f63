"""What the workers' fleet (workers/fleet.py) runs once before it forks: the start-up of a Celery worker and of
beat, on a throwaway app with an in-memory broker.

Each Celery line of workers/Procfile builds a worker (or beat) in its child, and the first run of Celery's and
kombu's code writes into the pages the child shares with the parent: Python specializes the bytecode of a
function where it lies, fills the caches of the types it looks up, stores the hashes of the strings it hashes.
A child that finds all this done writes less, so it keeps more of its memory shared (a Celery worker about 3 MiB
less of its own; bench/footprint.py). The app here is not Pier's: its broker is `memory://`, so nothing connects,
no thread starts, no file or socket is opened, and no signal reaches Pier's handlers (the metrics endpoint
starts only for a worker of Pier's app). What is built is dropped; nothing of it runs.
"""
from celery import Celery
from celery.beat import Scheduler

QUEUE = "warm-up"


def warm_up():
    app = Celery("warm-up", broker="memory://", set_as_current=False)
    app.conf.update(task_ignore_result=True, worker_hijack_root_logger=False, task_default_queue=QUEUE,
                    beat_schedule={QUEUE: {"task": QUEUE, "schedule": 60.0, "options": {"queue": QUEUE}}})
    app.WorkController(hostname=f"{QUEUE}@fleet", pool_cls="threads", concurrency=1, queues=[QUEUE],
                       task_events=True)
    Scheduler(app, lazy=False)
