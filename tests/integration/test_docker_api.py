"""Pier end to end on the Docker scheduler: API, real worker, real containers, the watcher collecting logs."""
import threading

import pytest

from core.endpoints import Endpoints
from core.extensions import db
from core.models import App, Operation
from tests.support.docker_apps import build_images, get, remove_app_containers
from tests.support.recording_scheduler import settings_changed
from tests.support.waiting import wait_for
from workers.watcher import collect


@pytest.fixture
def docker_platform(app, worker):
    """The Docker scheduler in force and the watcher collecting logs; afterwards the containers of every app
    the test made are removed."""
    client = build_images()
    with settings_changed(app, scheduler="docker", deploy_timeout=30.0, drain_seconds=0.0,
                          stop_grace_seconds=2) as settings:
        stop = threading.Event()
        watcher = threading.Thread(target=collect, args=(settings, stop), daemon=True)
        watcher.start()
        yield client
        stop.set()
        watcher.join(timeout=10)
    with app.app_context():
        for app_uuid in db.session.execute(db.select(App.uuid)).scalars():
            remove_app_containers(client, str(app_uuid))
        db.session.remove()


def served(app, app_id):
    [endpoint] = Endpoints(app.config["PIER"].redis_url).read(app_id)["cmd"]
    return get(endpoint)


def test_push_an_image_configure_run_and_destroy(app, alice, docker_platform):
    alice.create_app("dockhello")
    assert alice.post("/v2/apps/dockhello/builds", {"image": "pier-test/web:one"}).status_code == 201
    assert served(app, "dockhello") == "one"
    response = alice.post("/v2/apps/dockhello/config", {"values": {"MESSAGE": "configured"}})
    assert response.status_code == 201
    assert served(app, "dockhello") == "configured"
    # the deploy answers once v3 is routed; v2's container drains and stops right after
    assert wait_for(lambda: alice.get("/v2/apps/dockhello/pods").get_json()["count"] == 1)
    pods = alice.get("/v2/apps/dockhello/pods").get_json()
    assert pods["results"][0]["release"] == "v3"
    run = alice.post("/v2/apps/dockhello/run", {"command": "echo $MESSAGE $DEIS_RELEASE"}).get_json()
    assert run == {"exit_code": 0, "output": "configured v3\n"}
    assert wait_for(lambda: "dockhello[dockhello.v3.cmd.1]: listening on 8080" in
                    alice.get("/v2/apps/dockhello/logs").get_data(as_text=True))
    logs = alice.get("/v2/apps/dockhello/logs").get_data(as_text=True)
    assert "dockhello[dockhello.v2.cmd.1]: listening on 8080" in logs, "the log of v2 outlives its container"
    assert "release v3 deployed" in logs
    assert alice.delete("/v2/apps/dockhello").status_code == 204
    assert docker_platform.containers.list(all=True, filters={"label": "io.pier.app=dockhello"}) == []


def test_a_broken_image_fails_its_release_and_the_old_one_keeps_serving(app, alice, docker_platform):
    alice.create_app("dockbroken")
    alice.post("/v2/apps/dockbroken/builds", {"image": "pier-test/web:one"})
    response = alice.post("/v2/apps/dockbroken/builds", {"image": "pier-test/broken:1"})
    assert response.status_code == 400
    assert "boom: the app cannot start" in response.get_json()["detail"]
    latest = alice.get("/v2/apps/dockbroken/releases").get_json()["results"][0]
    assert latest["failed"] is True and latest["state"] == "failed"
    assert served(app, "dockbroken") == "one"
    missing = alice.post("/v2/apps/dockbroken/builds", {"image": "pier-test/nothing:here"})
    assert missing.status_code == 400 and "not found" in missing.get_json()["detail"]


def test_reconcile_brings_back_a_container_removed_by_hand(app, alice, docker_platform):
    from workers.runners.reconcile import reconcile_all
    alice.create_app("dockdrift")
    alice.post("/v2/apps/dockdrift/builds", {"image": "pier-test/web:one"})
    docker_platform.containers.get("dockdrift.v2.cmd.1").remove(force=True)
    with app.app_context():
        assert "dockdrift" in reconcile_all()
    assert wait_for(lambda: repairs_of(app, "dockdrift") == ["succeeded"])
    with app.app_context():
        assert "dockdrift" not in reconcile_all()
    assert docker_platform.containers.get("dockdrift.v2.cmd.1").status == "running"
    assert served(app, "dockdrift") == "one"
    assert "v2 redeployed in place: cmd: 0 of 1 up" in alice.get("/v2/apps/dockdrift/logs").get_data(as_text=True)


def repairs_of(app, app_id):
    with app.app_context():
        found = db.session.execute(db.select(Operation.state).where(Operation.app_id == app_id,
                                                                    Operation.kind == "repair")).scalars().all()
        db.session.remove()
    return found


def test_the_release_phase_runs_before_the_release_goes_live(app, alice, docker_platform):
    alice.create_app("dockphase")
    alice.post("/v2/apps/dockphase/builds", {"image": "pier-test/web:one"})
    failing = {"web": "python3 /app/server.py", "release": "echo migrating; exit 4"}
    response = alice.post("/v2/apps/dockphase/builds", {"image": "pier-test/web:two", "procfile": failing})
    assert response.status_code == 400
    assert "exit code 4" in response.get_json()["detail"] and "migrating" in response.get_json()["detail"]
    assert served(app, "dockphase") == "one"
    passing = {"web": "python3 /app/server.py", "release": "echo migrated"}
    assert alice.post("/v2/apps/dockphase/builds", {"image": "pier-test/web:two",
                                                    "procfile": passing}).status_code == 201
    [endpoint] = Endpoints(app.config["PIER"].redis_url).read("dockphase")["web"]
    assert get(endpoint) == "two"
    assert alice.get("/v2/apps/dockphase").get_json()["structure"] == {"web": 1}


def test_logs_merge_container_output_and_follow_streams_it(app, alice, docker_platform):
    alice.create_app("docklogs")
    alice.post("/v2/apps/docklogs/builds", {"image": "pier-test/web:one"})
    assert wait_for(lambda: "listening on 8080" in alice.get("/v2/apps/docklogs/logs").get_data(as_text=True))
    response = alice.client.get("/v2/apps/docklogs/logs?follow=true", headers=alice.headers(), buffered=False)
    chunks = iter(response.response)
    history = next(chunks).decode()
    assert "docklogs[docklogs.v2.cmd.1]: listening on 8080" in history
    assert "release v2 deployed" in history
    get(Endpoints(app.config["PIER"].redis_url).read("docklogs")["cmd"][0], "/followed")
    seen = ""
    for _ in range(60):
        seen += next(chunks).decode()
        if "request /followed" in seen:
            break
    response.close()
    assert "docklogs[docklogs.v2.cmd.1]: request /followed" in seen


def wait_settled(app, app_id):
    """Until the app's last deploy has drained and stopped its old processes: liveness leaves it alone before."""
    from core.services import operations

    def settled():
        with app.app_context():
            found = not operations.settling(db.session.execute(db.select(App).where(App.id == app_id)).scalar_one())
            db.session.rollback()
            return found
    assert wait_for(settled, 60), f"{app_id} never settled"


def test_a_container_failing_its_liveness_probe_is_restarted(app, alice, docker_platform):
    from workers.runners.liveness import check_all
    alice.create_app("docklive")
    alice.post("/v2/apps/docklive/builds", {"image": "pier-test/web:one"})
    patient = {"httpGet": {"path": "/missing", "port": 8080}, "failureThreshold": 1, "initialDelaySeconds": 3600}
    alice.post("/v2/apps/docklive/config", {"healthcheck": {"cmd": {"livenessProbe": patient}}})
    wait_settled(app, "docklive")
    with app.app_context():
        assert check_all() == [] and check_all() == [], "judged before its initialDelaySeconds"
    probe = {"httpGet": {"path": "/missing", "port": 8080}, "failureThreshold": 2}
    assert alice.post("/v2/apps/docklive/config",
                      {"healthcheck": {"cmd": {"livenessProbe": probe}}}).status_code == 201
    wait_settled(app, "docklive")
    started = docker_platform.containers.get("docklive.v4.cmd.1").attrs["State"]["StartedAt"]
    with app.app_context():
        assert check_all() == []
        assert check_all() == ["docklive.v4.cmd.1"]
    assert docker_platform.containers.get("docklive.v4.cmd.1").attrs["State"]["StartedAt"] != started
    assert "liveness probe failed 2 times in a row" in alice.get("/v2/apps/docklive/logs").get_data(as_text=True)
    healthy = {"httpGet": {"path": "/", "port": 8080}, "failureThreshold": 1}
    alice.post("/v2/apps/docklive/config", {"healthcheck": {"cmd": {"livenessProbe": healthy}}})
    wait_settled(app, "docklive")
    with app.app_context():
        assert check_all() == []


def test_an_image_that_cannot_be_pulled_is_a_clear_400_and_the_app_keeps_running(app, alice, docker_platform):
    alice.create_app("pullfail")
    assert alice.post("/v2/apps/pullfail/builds", {"image": "pier-test/web:one"}).status_code == 201
    response = alice.post("/v2/apps/pullfail/builds", {"image": "127.0.0.1:5000/pullfail:nope"})
    assert response.status_code == 400
    assert "127.0.0.1:5000/pullfail:nope not found or not pullable" in response.get_json()["detail"]
    assert served(app, "pullfail") == "one"
