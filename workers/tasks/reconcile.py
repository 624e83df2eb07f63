from celery import shared_task

from workers.runners.liveness import check_all
from workers.runners.reconcile import reconcile_all


@shared_task(name="reconcile.apps", ignore_result=True)
def reconcile_apps():
    reconcile_all()


@shared_task(name="liveness.check", ignore_result=True)
def check_liveness():
    check_all()
