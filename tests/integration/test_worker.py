"""The worker runs each job inside the Flask app its Celery app is bound to, whatever else was created."""
import time
import uuid

import redis
from celery import shared_task
from flask import current_app

from api import create_app
from tests.conftest import TEST_REDIS_URL, settings_for_tests


@shared_task(name="tests.which_app")
def which_app(key):
    redis.Redis.from_url(TEST_REDIS_URL).set(key, current_app.config["PIER"].domain, ex=60)


def test_jobs_run_in_the_workers_own_app_after_another_app_is_created(app, worker):
    create_app(settings_for_tests(domain="other.example"))
    key = f"pier-test-{uuid.uuid4().hex}"
    worker.send_task("tests.which_app", args=[key])
    client = redis.Redis.from_url(TEST_REDIS_URL)
    for _ in range(200):
        if client.get(key) is not None:
            break
        time.sleep(0.05)
    assert client.get(key) == app.config["PIER"].domain.encode()
