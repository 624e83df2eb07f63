"""The push follows its deploy's operation (the hook asks with `Prefer: respond-async`), however long the
deploy takes: a deploy slower than PIER_SYNC_TIMEOUT is followed to its end (it once failed the push on the
202 answer while the release went live), a controller that restarts meanwhile is waited for, the operation's
end published by the worker is heard at once, and past the deploy timeout the push lets the deploy go on."""
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
import redis

from core import jobs
from sshd import receive
from sshd.controller import ControllerError
from tests.conftest import TEST_REDIS_URL


class Controller:
    """The controller's operation answers, one per look: a state, or an exception to raise."""

    def __init__(self, *answers):
        self.answers, self.looks = list(answers), 0

    def operation(self, operation_uuid):
        self.looks += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return {"uuid": operation_uuid, "state": answer, "error": None}


@pytest.fixture
def connection():
    connection = redis.Redis.from_url(TEST_REDIS_URL)
    yield connection
    connection.close()


def follow(controller, connection, deploy_timeout=120):
    operation = {"uuid": str(uuid.uuid4()), "state": "pending"}
    settings = SimpleNamespace(deploy_timeout=deploy_timeout)
    return receive.follow_deploy(settings, controller, operation, connection)


def test_a_deploy_longer_than_the_sync_timeout_is_followed_to_its_end(connection, monkeypatch):
    monkeypatch.setattr(receive, "DEPLOY_POLL_SECONDS", 0.05)
    controller = Controller("pending", "running", "running", "running", "running", "succeeded")
    assert follow(controller, connection)["state"] == "succeeded" and controller.looks == 6


def test_a_controller_restarting_meanwhile_is_waited_for(connection, monkeypatch, capsys):
    monkeypatch.setattr(receive, "DEPLOY_POLL_SECONDS", 0.05)
    controller = Controller("running", ControllerError("the controller is not answering"), "failed")
    assert follow(controller, connection)["state"] == "failed"
    assert "the controller is not answering; still waiting" in capsys.readouterr().out


def test_the_deploys_end_is_heard_at_once(connection, monkeypatch):
    monkeypatch.setattr(receive, "DEPLOY_POLL_SECONDS", 30.0)  # without the message, the second look is 30 s away
    controller = Controller("running", "succeeded")
    operation = {"uuid": str(uuid.uuid4()), "state": "pending"}

    def worker_finishes():
        name = jobs.operation_channel(operation["uuid"])
        while connection.pubsub_numsub(name)[0][1] == 0:  # the push listens from here on
            time.sleep(0.05)
        time.sleep(0.5)
        connection.publish(name, "succeeded")

    threading.Thread(target=worker_finishes, daemon=True).start()
    began = time.monotonic()
    followed = receive.follow_deploy(SimpleNamespace(deploy_timeout=120), controller, operation, connection)
    assert followed["state"] == "succeeded" and time.monotonic() - began < receive.DEPLOY_POLL_SECONDS


def test_past_the_deploy_timeout_the_push_lets_the_deploy_go_on(connection, monkeypatch):
    monkeypatch.setattr(receive, "DEPLOY_POLL_SECONDS", 0.05)
    monkeypatch.setattr(receive, "LAUNCH_MARGIN", 0.0)
    assert follow(Controller("running"), connection, deploy_timeout=0.5)["state"] == "running"
