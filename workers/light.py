"""Entry point for `celery -A workers.light beat` (and flower's, through workers.flower): the broker, the queues
and the schedule, without the Flask app, SQLAlchemy or the task modules. Beat sends jobs by name and flower watches
the workers' events, so neither needs them: run on their own (the chart's pods), each is about half the size of a
worker; in the workers' fleet (workers/fleet.py) they are forked from its parent anyway."""
from celery import Celery

from core.settings import Settings
from workers.celery_app import configure

settings = Settings.from_env()
celery = Celery("workers")
configure(celery, settings)
