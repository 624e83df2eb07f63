from celery import shared_task

from workers.runners.autoscale import autoscale_all
from workers.runners.liveness import check_all
from workers.runners.reconcile import reconcile_all, reconcile_app
from workers.runners.watchdog import check_operations


@shared_task(name="reconcile.apps", ignore_result=True)
def reconcile_apps():
    reconcile_all()


@shared_task(name="liveness.check", ignore_result=True)
def check_liveness():
    check_all()


@shared_task(name="operations.watch", ignore_result=True)
def watch_operations():
    check_operations()


@shared_task(name="reconcile.app", ignore_result=True)
def reconcile_one_app(app_id):
    reconcile_app(app_id)


@shared_task(name="autoscale.apps", ignore_result=True)
def autoscale_apps():
    autoscale_all()
