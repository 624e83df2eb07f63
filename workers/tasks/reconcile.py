from celery import shared_task

from workers.runners.reconcile import reconcile_all


@shared_task(name="reconcile.apps", ignore_result=True)
def reconcile_apps():
    reconcile_all()
