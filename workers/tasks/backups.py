"""Backups: the scheduled request, the operation's job, and the listing for the API."""
from celery import shared_task
from flask import current_app

from workers.runners import backups, operations


@shared_task(name="backups.schedule", ignore_result=True)
def schedule_backup(kind):
    backups.scheduled(kind)


@shared_task(name="backups.take", bind=True, acks_late=True, ignore_result=True, max_retries=None)
def take_backup(self, operation_uuid):
    operations.execute(self, operation_uuid, backups.take)


@shared_task(name="backups.observe", ignore_result=True)
def observe_backups():
    backups.observe(current_app.config["PIER"])
