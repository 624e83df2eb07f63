"""Garbage collection: the scheduled request and the operation's job."""
from celery import shared_task

from workers.runners import gc, operations


@shared_task(name="gc.schedule", ignore_result=True)
def schedule_gc():
    gc.scheduled()


@shared_task(name="gc.collect", bind=True, acks_late=True, ignore_result=True, max_retries=None)
def collect(self, operation_uuid):
    operations.execute(self, operation_uuid, gc.collect)
