"""Celery bound to the Flask app factory: tasks run inside an app context, messages are JSON ids."""
from celery import Celery, Task

VISIBILITY_MARGIN = 3600
RECONCILE_SECONDS = 30.0
LIVENESS_SECONDS = 10.0  # liveness probes run this often, whatever their periodSeconds


class FlaskTask(Task):
    """Runs inside the app context of the Flask app that this task's Celery app is bound to."""

    def __call__(self, *args, **kwargs):
        with self.app.flask_app.app_context():
            return self.run(*args, **kwargs)


def make_celery(flask_app):
    settings = flask_app.config["PIER"]

    celery = Celery(flask_app.name, task_cls=FlaskTask)
    celery.flask_app = flask_app
    celery.conf.update(
        broker_url=settings.redis_url,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.job_time_limit,
        # A job that is unacknowledged for longer than this is redelivered: keep it above the longest job.
        broker_transport_options={"visibility_timeout": settings.job_time_limit + VISIBILITY_MARGIN},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        include=["workers.tasks.operations", "workers.tasks.reconcile", "workers.tasks.build"],
        beat_schedule={
            "reconcile": {"task": "reconcile.apps", "schedule": RECONCILE_SECONDS,
                          "options": {"expires": RECONCILE_SECONDS}},
            "liveness": {"task": "liveness.check", "schedule": LIVENESS_SECONDS,
                         "options": {"expires": LIVENESS_SECONDS}},
        },
    )
    flask_app.extensions["celery"] = celery
    return celery
