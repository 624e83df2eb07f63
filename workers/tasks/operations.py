"""Thin Celery tasks: each takes an operation id and hands it to a runner."""
from celery import shared_task

from workers.runners import operations

# max_retries None: a job waiting for a lease or a settling app asks again until the watchdog fails it
OPTIONS = {"bind": True, "acks_late": True, "ignore_result": True, "max_retries": None}


@shared_task(name="deploy.release", **OPTIONS)
def deploy_release(self, operation_uuid):
    operations.execute(self, operation_uuid, operations.deploy)


@shared_task(name="app.scale", **OPTIONS)
def scale_app(self, operation_uuid):
    operations.execute(self, operation_uuid, operations.scale)


@shared_task(name="app.restart", **OPTIONS)
def restart_app(self, operation_uuid):
    operations.execute(self, operation_uuid, operations.restart)


@shared_task(name="app.run", **OPTIONS)
def run_command(self, operation_uuid):
    operations.execute(self, operation_uuid, operations.run)


@shared_task(name="app.destroy", **OPTIONS)
def destroy_app(self, operation_uuid):
    operations.execute(self, operation_uuid, operations.destroy)


@shared_task(name="app.repair", **OPTIONS)
def repair_app(self, operation_uuid):
    operations.execute(self, operation_uuid, operations.repair)
