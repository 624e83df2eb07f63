"""The build job; the builder enqueues it by name with plain values and reads its output from Redis."""
from celery import shared_task
from flask import current_app

from workers.runners import build


# Not acks_late: a build redelivered after a worker crash would run long after its `git push` gave up.
@shared_task(name="build.app", bind=True, acks_late=False, ignore_result=True)
def build_app(self, build_id, app, sha, buildpack_url="", disable_cache=False):
    build.run(current_app.config["PIER"], build_id, app, sha, buildpack_url, disable_cache)
