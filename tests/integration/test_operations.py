"""Scale, run, pods, restart and asynchronous operations (API.md 2.2, 2.3 and 4)."""
import re
import threading

import pytest

from api.gate import Turns
from tests.support import deploy_image, latest_release, release_list, wait_for_operation
from tests.support import recording_scheduler as recorder
from tests.support.recording_scheduler import recording_scheduler  # noqa: F401
from tests.support.waiting import wait_for

ASYNC = {"Prefer": "respond-async"}
OPERATION_FIELDS = {"uuid", "app", "kind", "state", "error", "created", "updated"}
LOCATION = re.compile(r"^/v2/operations/[0-9a-f-]{36}$")


@pytest.fixture
def hello(alice):
    alice.create_app("hello")
    return alice


@pytest.fixture
def deployed(hello, recording_scheduler):  # noqa: F811
    deploy_image(hello, "hello", procfile={"web": "bin/web", "worker": "bin/worker"})
    return hello


def structure(caller):
    return caller.get("/v2/apps/hello").get_json()["structure"]


def test_scale_updates_the_structure(deployed):
    response = deployed.post("/v2/apps/hello/scale", {"web": 3, "worker": 2})
    assert response.status_code == 204
    assert structure(deployed) == {"web": 3, "worker": 2}
    [scale] = recorder.calls("scale")
    assert scale.args["structure"] == {"web": 3, "worker": 2}
    assert deployed.post("/v2/apps/hello/scale", {"worker": 0}).status_code == 204
    assert structure(deployed) == {"web": 3, "worker": 0}


def test_scale_unknown_type_is_refused(deployed):
    response = deployed.post("/v2/apps/hello/scale", {"web": 1, "clock": 1})
    assert response.status_code == 400
    assert "clock" in response.get_json()["detail"]
    assert structure(deployed) == {"web": 1, "worker": 0}
    assert recorder.calls("scale") == []


@pytest.mark.parametrize("body", [{"web": -1}, {"web": "2"}, {"web": True}, {"web": 1.5}, {"web": None},
                                  {"Web": 1}])
def test_scale_bad_format_is_refused(deployed, body):
    response = deployed.post("/v2/apps/hello/scale", body)
    assert response.status_code == 400
    assert structure(deployed) == {"web": 1, "worker": 0}


@pytest.mark.parametrize("raw", [b"[1]", b"", b"{"])
def test_scale_body_must_be_an_object(deployed, raw):
    assert deployed.post("/v2/apps/hello/scale", raw=raw).status_code == 400


def test_scale_without_build_is_refused(hello):
    response = hello.post("/v2/apps/hello/scale", {"cmd": 2})
    assert response.status_code == 400
    assert "No build" in response.get_json()["detail"]


def test_scale_failure_keeps_the_structure(deployed):
    recorder.fail_next("not enough memory for 9 web containers", method="scale")
    response = deployed.post("/v2/apps/hello/scale", {"web": 9})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "not enough memory for 9 web containers"}
    assert structure(deployed) == {"web": 1, "worker": 0}


def test_run_returns_the_scheduler_output(deployed):
    response = deployed.post("/v2/apps/hello/run", {"command": "echo hi"})
    assert response.status_code == 200
    assert response.get_json() == {"exit_code": 0, "output": "hello v2 ran: echo hi\n"}
    [run] = recorder.calls("run")
    assert run.args["command"] == "echo hi" and run.args["spec"].image == "example/web:v1"
    failing = deployed.post("/v2/apps/hello/run", {"command": "exit 3"})
    assert failing.get_json()["exit_code"] == 3


def test_run_scheduler_failure_is_a_bad_request(deployed):
    recorder.fail_next("image could not be pulled", method="run")
    response = deployed.post("/v2/apps/hello/run", {"command": "ls"})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "image could not be pulled"}


def test_run_needs_a_command(deployed):
    response = deployed.post("/v2/apps/hello/run", {})
    assert response.status_code == 400
    assert "command is a required field" in str(response.get_json())
    assert deployed.post("/v2/apps/hello/run", {"command": ""}).status_code == 400
    assert recorder.calls("run") == []


def test_run_command_with_a_nul_is_refused(deployed):
    assert deployed.post("/v2/apps/hello/run", {"command": "ls \u0000"}).status_code == 400
    assert recorder.calls("run") == []


def test_run_without_build_is_refused(hello):
    response = hello.post("/v2/apps/hello/run", {"command": "ls"})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "No build associated with this release to run this command"}


def test_pods_are_listed_by_the_scheduler(deployed):
    deployed.post("/v2/apps/hello/scale", {"worker": 2})
    body = deployed.get("/v2/apps/hello/pods").get_json()
    assert set(body) == {"count", "results"}
    assert body["count"] == 3
    assert [p["type"] for p in body["results"]] == ["web", "worker", "worker"]
    assert set(body["results"][0]) == {"name", "release", "started", "state", "type"}
    workers = deployed.get("/v2/apps/hello/pods/worker").get_json()
    assert workers["count"] == 2 and {p["type"] for p in workers["results"]} == {"worker"}
    name = workers["results"][0]["name"]
    one = deployed.get(f"/v2/apps/hello/pods/worker/{name}").get_json()
    assert one["count"] == 1 and one["results"][0]["name"] == name
    assert deployed.get("/v2/apps/hello/pods/worker/nothing").status_code == 404
    assert deployed.get("/v2/apps/hello/pods/worker/no%00pe").status_code == 400


def test_pods_of_an_app_no_worker_has_observed_are_an_empty_list(hello):
    # `ps` reads what the workers last observed; the API itself never calls the scheduler
    response = hello.get("/v2/apps/hello/pods")
    assert response.status_code == 200 and response.get_json() == {"count": 0, "results": []}


def test_restart_returns_a_bare_list(deployed):
    response = deployed.post("/v2/apps/hello/pods/restart")
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, list) and [p["type"] for p in body] == ["web"]
    typed = deployed.post("/v2/apps/hello/pods/web/restart").get_json()
    assert [p["type"] for p in typed] == ["web"]
    assert [(c.args["process_type"]) for c in recorder.calls("restart")] == [None, "web"]


def test_restart_of_an_app_that_runs_nothing_is_an_empty_list(hello, worker):
    response = hello.post("/v2/apps/hello/pods/restart")
    assert response.status_code == 200 and response.get_json() == []
    response = hello.post("/v2/apps/hello/pods/web/restart")
    assert response.status_code == 400 and response.get_json()["detail"] == "No pods of hello match web."


def test_async_config_change_answers_202_and_succeeds(deployed, bob):
    response = deployed.post("/v2/apps/hello/config", {"values": {"FOO": "1"}}, headers=ASYNC)
    assert response.status_code == 202
    location = response.headers["Location"]
    assert LOCATION.match(location)
    assert set(response.get_json()) == OPERATION_FIELDS
    operation = wait_for_operation(deployed, location)
    assert (operation["state"], operation["error"], operation["kind"], operation["app"]) == (
        "succeeded", None, "deploy", "hello")
    assert latest_release(deployed, "hello")["state"] == "deployed"
    assert deployed.get("/v2/apps/hello/config").get_json()["values"]["FOO"] == "1"
    missing = bob.get(location)
    assert missing.status_code == 404
    assert missing.get_json() == "No Operation matches the given query."


def test_async_failure_is_recorded_on_the_operation(deployed):
    recorder.fail_next("health check never passed", method="deploy")
    response = deployed.post("/v2/apps/hello/config", {"values": {"FOO": "1"}}, headers=ASYNC)
    assert response.status_code == 202
    operation = wait_for_operation(deployed, response.headers["Location"])
    assert (operation["state"], operation["error"]) == ("failed", "health check never passed")
    assert latest_release(deployed, "hello")["failed"] is True


def test_unknown_operation_is_not_found(alice):
    for operation_id in ("6f1c4c1e-9c53-4d2c-a7a5-2b8f9f1e0a11", "nope"):
        assert alice.get(f"/v2/operations/{operation_id}").status_code == 404


def test_second_deploy_while_one_is_in_progress_conflicts(deployed):
    gate = recorder.block_deploys()
    try:
        first = deployed.post("/v2/apps/hello/config", {"values": {"FOO": "1"}}, headers=ASYNC)
        assert first.status_code == 202
        versions = len(release_list(deployed, "hello"))
        second = deployed.post("/v2/apps/hello/config", {"values": {"BAR": "1"}})
        assert second.status_code == 409
        assert second.get_json() == {"detail": "Deployment for hello is already in progress"}
        build = deployed.post("/v2/apps/hello/builds", {"image": "example/web:v2"})
        assert build.status_code == 409
        assert deployed.post("/v2/apps/hello/scale", {"web": 2}).status_code == 409
        assert deployed.delete("/v2/apps/hello").status_code == 409
        assert len(release_list(deployed, "hello")) == versions
    finally:
        gate.set()
    assert wait_for_operation(deployed, first.headers["Location"])["state"] == "succeeded"
    assert deployed.post("/v2/apps/hello/config", {"values": {"BAR": "1"}}).status_code == 201


def test_slow_synchronous_deploy_answers_202(app, deployed):
    gate = recorder.block_deploys()
    try:
        with recorder.settings_changed(app, sync_timeout=0.2):
            response = deployed.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
        assert response.status_code == 202
        assert LOCATION.match(response.headers["Location"])
    finally:
        gate.set()
    assert wait_for_operation(deployed, response.headers["Location"])["state"] == "succeeded"


def test_restart_one_pod(deployed):
    deployed.post("/v2/apps/hello/scale", {"web": 2})
    name = deployed.get("/v2/apps/hello/pods/web").get_json()["results"][1]["name"]
    response = deployed.post(f"/v2/apps/hello/pods/web/{name}/restart")
    assert response.status_code == 200
    assert [p["name"] for p in response.get_json()] == [name]
    assert recorder.calls("restart")[-1].args == {"process_type": "web", "name": name}


def test_async_destroy(deployed):
    response = deployed.delete("/v2/apps/hello", headers=ASYNC)
    assert response.status_code == 202
    operation = wait_for_operation(deployed, response.headers["Location"])
    assert (operation["kind"], operation["state"]) == ("destroy", "succeeded")
    assert deployed.get("/v2/apps/hello").status_code == 404
    assert deployed.get(response.headers["Location"]).get_json()["app"] == "hello"


def test_collaborator_sees_operations_of_a_shared_app(deployed, bob):
    deployed.post("/v2/apps/hello/perms", {"username": "bob"})
    response = bob.post("/v2/apps/hello/scale", {"web": 2}, headers=ASYNC)
    assert response.status_code == 202
    operation = wait_for_operation(deployed, response.headers["Location"])
    assert (operation["kind"], operation["state"]) == ("scale", "succeeded")
    assert bob.get(response.headers["Location"]).status_code == 200


def test_restart_of_a_pod_name_with_a_nul_is_refused(deployed):
    response = deployed.post("/v2/apps/hello/pods/web/hello%00web/restart")
    assert response.status_code in (400, 404)
    assert recorder.calls("restart") == []


def test_a_request_waiting_for_its_operation_gives_its_turn_to_others(app, deployed):
    """With one turn in the worker (api/gate.py), a config:set waiting for its deploy lets reads through."""
    gate = app.extensions["pier_gate"]
    turns, gate.turns = gate.turns, Turns(1)
    blocked = recorder.block_deploys()
    answers = {}

    def send(name, method, path, body=None):
        answers[name] = deployed.request(method, path, body)

    waiting = threading.Thread(target=send, args=("config", "POST", "/v2/apps/hello/config",
                                                   {"values": {"FOO": "1"}}))
    deploys = len(recorder.calls("deploy"))
    try:
        waiting.start()
        assert wait_for(lambda: len(recorder.calls("deploy")) > deploys, 20), "the config's deploy never started"
        reader = threading.Thread(target=send, args=("read", "GET", "/v2/apps/hello"))
        reader.start()
        reader.join(20)
        assert not reader.is_alive() and answers["read"].status_code == 200
        assert "config" not in answers, "the config:set was still waiting for its deploy"
    finally:
        blocked.set()
        waiting.join(30)
        gate.turns = turns
    assert answers["config"].status_code == 201
