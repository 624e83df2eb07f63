"""flower's Celery app (through workers.flower): the broker, the queues and the schedule, without the Flask app,
SQLAlchemy or the task modules. flower watches the workers' events, so it needs none of them: run on its own (the
chart's pod), it is about half the size of a worker; in the workers' fleet (workers/fleet.py) it is forked from
its parent anyway. Beat runs in the periodic worker (workers/beat.py), on that worker's app."""
from celery import Celery

from core.settings import Settings
from workers.celery_app import configure

settings = Settings.from_env()
celery = Celery("workers")
configure(celery, settings)
