"""`celery -A workers.main worker --beat-thread …`: Celery beat in a thread of this worker (workers/Procfile's
`periodic` line), putting the periodic jobs on their queue (workers/celery_app.py's schedule), where this worker
takes them.

Beat must run exactly once per platform (two would send every periodic job twice), and so must this line: one
process on a host (workers/fleet.py), one pod of a Recreate Deployment in the chart. A process of its own cost
about 25 MiB (bench/footprint.py); a thread of the periodic worker, whose pages hold Celery's code already, costs
little. Celery's own `--beat` forks a process of its own instead: this step is used in its place.

The thread wakes at least every second, so that the worker's shutdown waits for it no longer than that; beat's
schedule (PIER_BEAT_SCHEDULE) is written when it stops. If beat stops on its own (an error beat's loop does
not handle), the worker is stopped with it, and whatever supervises the worker (the fleet, Kubernetes) starts
both again: a worker whose beat is gone would look alive while no periodic job is sent.
"""
import logging
import os
import signal
import threading

from celery import bootsteps
from celery.beat import Service
from click import Option

MAX_INTERVAL = 1.0
STOP_WAIT = 5.0
logger = logging.getLogger(__name__)


class Beat(bootsteps.StartStopStep):
    label = "Beat (thread)"
    conditional = True

    def __init__(self, worker, beat_thread=False, **options):
        self.enabled = bool(beat_thread)
        self.service = self.thread = None
        self.stopping = threading.Event()
        super().__init__(worker, **options)

    def create(self, worker):
        self.service = Service(worker.app, max_interval=MAX_INTERVAL, schedule_filename=worker.schedule_filename,
                               scheduler_cls=worker.scheduler)
        self.thread = threading.Thread(target=self.run, name="beat", daemon=True)
        return self

    def start(self, worker):
        self.thread.start()

    def run(self):
        try:
            self.service.start()
        except BaseException:
            logger.exception("beat failed")
        finally:
            if not self.stopping.is_set():
                logger.error("beat stopped on its own: stopping this worker, to be started again with it")
                os.kill(os.getpid(), signal.SIGTERM)

    def stop(self, worker):
        self.stopping.set()
        if self.thread is not None and self.thread.is_alive():
            self.service.stop()
            self.thread.join(timeout=STOP_WAIT)  # a beat stuck sending is left behind (a daemon thread)

    shutdown = stop


def add_to(celery):
    """Gives `celery`'s workers the --beat-thread option and the step it enables."""
    celery.user_options["worker"].add(Option(
        ("--beat-thread",), is_flag=True, default=False,
        help="Also run Celery beat, in a thread of this worker (one such worker per platform)."))
    celery.steps["worker"].add(Beat)
