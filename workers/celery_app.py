"""Celery bound to the core's Flask app: tasks run inside an app context, messages are JSON ids, and each
kind of job goes to its own queue (core.jobs), served by its own workers."""
from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_init

from core import jobs
from core.backups import cron_fields
from workers import beat, metrics

VISIBILITY_MARGIN = 3600
RECONCILE_SECONDS = 10.0
LIVENESS_SECONDS = 10.0  # liveness probes run this often, whatever their periodSeconds
WATCHDOG_SECONDS = 10.0  # stuck operations are found this often
BACKUP_LIST_SECONDS = 60.0  # the database's backups are listed for the API this often


TASK_MODULES = ["workers.tasks.operations", "workers.tasks.periodic", "workers.tasks.build", "workers.tasks.backups",
                "workers.tasks.gc"]


class FlaskTask(Task):
    """Runs inside the app context of the Flask app that this task's Celery app is bound to."""

    def __call__(self, *args, **kwargs):
        with self.app.flask_app.app_context():
            return self.run(*args, **kwargs)


def make_celery(flask_app):
    settings = flask_app.config["PIER"]

    celery = Celery("workers", task_cls=FlaskTask)
    celery.flask_app = flask_app
    configure(celery, settings)
    celery.conf.include = TASK_MODULES
    beat.add_to(celery)
    flask_app.extensions["celery"] = celery

    def serve_metrics(sender=None, **_):
        # a worker of this Celery app, in its main process, before its pool forks any child
        if sender is not None and sender.app is celery:
            metrics.start_endpoint(settings, set(sender.app.amqp.queues.consume_from))
    worker_init.connect(serve_metrics, weak=False)
    return celery


def configure(celery, settings):
    """The broker, the queues and the schedule: the workers' (beat's schedule too) and all that flower needs
    (workers.light)."""
    celery.conf.update(
        broker_url=settings.redis_url,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.job_time_limit,
        task_routes={name: {"queue": queue} for name, queue in jobs.TASK_QUEUES.items()},
        task_default_queue=jobs.DEPLOYS,
        # A job that is unacknowledged for longer than this is redelivered: keep it above the longest job.
        broker_transport_options={"visibility_timeout": settings.job_time_limit + VISIBILITY_MARGIN},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule_filename=settings.beat_schedule,
        beat_schedule={
            "reconcile": {"task": "reconcile.apps", "schedule": RECONCILE_SECONDS,
                          "options": {"expires": RECONCILE_SECONDS, "queue": jobs.PERIODIC}},
            "liveness": {"task": "liveness.check", "schedule": LIVENESS_SECONDS,
                         "options": {"expires": LIVENESS_SECONDS, "queue": jobs.PERIODIC}},
            "watchdog": {"task": "operations.watch", "schedule": WATCHDOG_SECONDS,
                         "options": {"expires": WATCHDOG_SECONDS, "queue": jobs.PERIODIC}},
            "full backup": {"task": "backups.schedule", "args": ["full"], "options": {"queue": jobs.PERIODIC},
                            "schedule": crontab(**cron_fields(settings.backup_full_schedule))},
            "differential backup": {"task": "backups.schedule", "args": ["diff"], "options": {"queue": jobs.PERIODIC},
                                    "schedule": crontab(**cron_fields(settings.backup_diff_schedule))},
            "backup listing": {"task": "backups.observe", "schedule": BACKUP_LIST_SECONDS,
                               "options": {"expires": BACKUP_LIST_SECONDS, "queue": jobs.PERIODIC}},
            "autoscale": {"task": "autoscale.apps", "schedule": settings.autoscale_interval,
                          "options": {"expires": settings.autoscale_interval, "queue": jobs.PERIODIC}},
            "garbage collection": {"task": "gc.schedule", "options": {"queue": jobs.PERIODIC},
                                   "schedule": crontab(**cron_fields(settings.gc_schedule))},
        },
    )
