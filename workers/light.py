"""Entry point for `celery -A workers.light beat|flower`: the broker, the queues and the schedule, without the
Flask app, SQLAlchemy or the task modules. Beat sends jobs by name and flower watches the workers' events, so
neither needs them, and each process is about half the size of a worker (bench/footprint.py)."""
from celery import Celery

from core.settings import Settings
from workers.celery_app import configure

celery = Celery("workers")
configure(celery, Settings.from_env())
