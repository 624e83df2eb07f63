"""Autoscaling: rules acted on by the periodic round, with the real worker carrying out its scales. The in-memory
scheduler (CPU set by the test) for the decisions, and the Docker scheduler behind the real router under load."""
import threading
import time
import urllib.error
import urllib.request

from core import jobs
from router.sync import sync_once
from tests.integration.test_router import fetch, router  # noqa: F401  (router: a fixture)
from tests.integration.test_zero_downtime import RouterThread
from tests.support import recording_scheduler as recorder
from tests.support.docker_apps import build_burn_image, remove_app_containers
from tests.support.recording_scheduler import recording_scheduler, settings_changed  # noqa: F401
from tests.support.waiting import wait_for
from workers.runners.autoscale import autoscale_all

PROCFILE = {"web": "bin/web", "worker": "bin/worker"}


def deployed(caller, name):
    caller.create_app(name)
    response = caller.post(f"/v2/apps/{name}/builds", {"image": "example/web:v1", "procfile": PROCFILE})
    assert response.status_code == 201, response.get_json()


def structure(caller, name):
    return caller.get(f"/v2/apps/{name}").get_json()["structure"]


def log_of(caller, name):
    return caller.get(f"/v2/apps/{name}/logs?log_lines=1000").get_data(as_text=True)


def one_round(app):
    with app.app_context():
        return autoscale_all()


def test_a_rule_brings_its_type_within_bounds_at_the_next_round(app, alice, recording_scheduler):  # noqa: F811
    deployed(alice, "sized")
    rules = {"web": {"min": 2, "max": 3, "cpu_percent": 50}, "worker": {"min": 1, "max": 2, "cpu_percent": 50}}
    assert alice.post("/v2/apps/sized/settings", {"autoscale": rules}).status_code == 201
    jobs.send(app.config["PIER"].redis_url, "autoscale.apps")  # as beat sends it, to the periodic queue
    assert wait_for(lambda: structure(alice, "sized") == {"web": 2, "worker": 1}, 30)
    assert recorder.calls("scale")[-1].args["structure"] == {"web": 2, "worker": 1}
    logs = log_of(alice, "sized")
    assert "autoscaled web 1\u21922, below its minimum of 2" in logs
    assert "autoscaled worker 0\u21921, below its minimum of 1" in logs
    # a lower maximum takes the count down at once, whatever the CPU or the window says
    alice.post("/v2/apps/sized/settings", {"autoscale": {"web": {"min": 1, "max": 1, "cpu_percent": 50}}})
    assert one_round(app) == {"sized": {"web": 1}}
    assert wait_for(lambda: structure(alice, "sized") == {"web": 1, "worker": 1}, 30)
    assert "autoscaled web 2\u21921, above its maximum of 1" in log_of(alice, "sized")
    assert one_round(app) == {}, "a type within bounds and without CPU use was scaled"


def test_cpu_use_scales_up_at_once_and_down_only_after_the_window(app, alice, recording_scheduler):  # noqa: F811
    deployed(alice, "busy")
    alice.post("/v2/apps/busy/settings", {"autoscale": {"web": {"min": 1, "max": 4, "cpu_percent": 50}}})
    with settings_changed(app, autoscale_down_window=3.0):
        recorder.WORLD.burn("busy", "web", 2.0)  # two cores: 200 % of one core, where 50 % is aimed at
        assert one_round(app) == {"busy": {"web": 4}}
        assert wait_for(lambda: structure(alice, "busy")["web"] == 4, 30)
        assert "autoscaled web 1\u21924, CPU 200 % of 50 %" in log_of(alice, "busy")
        recorder.WORLD.burn("busy", "web", 0.8)  # wants 7 now: held at the maximum
        assert one_round(app) == {}
        recorder.WORLD.burn("busy", "web", 0.0)
        assert one_round(app) == {}, "scaled down within the window"
        assert structure(alice, "busy")["web"] == 4
        time.sleep(3.5)  # the window passes: only the last (idle) recommendation is left in it
        assert one_round(app) == {"busy": {"web": 1}}
        assert wait_for(lambda: structure(alice, "busy")["web"] == 1, 30)
    assert "autoscaled web 4\u21921, CPU 0 % of 50 %" in log_of(alice, "busy")
    counts = [call.args["structure"]["web"] for call in recorder.calls("scale")]
    assert counts == [4, 1]


def test_a_manual_scale_of_an_autoscaled_type_is_refused(app, alice, recording_scheduler):  # noqa: F811
    deployed(alice, "manual")
    alice.post("/v2/apps/manual/settings", {"autoscale": {"web": {"min": 1, "max": 3, "cpu_percent": 50}}})
    refused = alice.post("/v2/apps/manual/scale", {"web": 2})
    assert refused.status_code == 409  # API.md, section 4
    assert refused.get_json()["detail"] == ("web is autoscaled: the autoscaler sets its count; "
                                            "run pier autoscale:unset web to scale by hand.")
    assert alice.post("/v2/apps/manual/scale", {"worker": 2}).status_code == 204
    assert structure(alice, "manual") == {"web": 1, "worker": 2}
    alice.post("/v2/apps/manual/settings", {"autoscale": {"web": None}})
    assert alice.post("/v2/apps/manual/scale", {"web": 2}).status_code == 204


def test_the_autoscaler_keeps_out_while_a_deploy_runs(app, alice, recording_scheduler):  # noqa: F811
    deployed(alice, "deploying")
    alice.post("/v2/apps/deploying/settings", {"autoscale": {"web": {"min": 2, "max": 3, "cpu_percent": 50}}})
    gate = recorder.block_deploys()
    response = alice.post("/v2/apps/deploying/config", {"values": {"A": "1"}}, headers={"Prefer": "respond-async"})
    assert response.status_code == 202
    assert wait_for(lambda: len(recorder.calls("deploy")) == 2, 30)
    assert one_round(app) == {}
    assert "autoscaled" not in log_of(alice, "deploying")
    gate.set()
    assert wait_for(lambda: one_round(app) == {"deploying": {"web": 2}}, 60)
    assert wait_for(lambda: structure(alice, "deploying")["web"] == 2, 30)


class Burner(threading.Thread):
    """Requests that cost the app CPU, through the router, one after another with a pause between."""

    def __init__(self, port, host):
        super().__init__(daemon=True)
        self.url, self.host, self.stop, self.failures = f"http://127.0.0.1:{port}/burn?ms=20", host, \
            threading.Event(), []

    def run(self):
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(urllib.request.Request(self.url, headers={"Host": self.host}),
                                            timeout=10) as answer:
                    answer.read()
            except (urllib.error.URLError, OSError) as error:
                self.failures.append(repr(error))
            time.sleep(0.02)


class Rounds(threading.Thread):
    """The autoscaler's round, one after another, as beat sends them; notes every web count the app had."""

    def __init__(self, app, client, app_uuid):
        super().__init__(daemon=True)
        self.app, self.client, self.app_uuid, self.stop, self.seen = app, client, app_uuid, threading.Event(), set()

    def run(self):
        while not self.stop.is_set():
            one_round(self.app)
            self.seen.add(self.running())
            self.stop.wait(0.5)

    def running(self):
        return len(self.client.containers.list(filters={"label": [f"io.pier.app-uuid={self.app_uuid}",
                                                                   "io.pier.type=web"], "status": "running"}))


def test_cpu_load_through_the_router_scales_up_within_max_then_back_to_min(app, alice, router):  # noqa: F811
    client, nginx, port, _ = router
    build_burn_image(client)
    created = alice.create_app("burner")
    rule = {"min": 1, "max": 3, "cpu_percent": 50}
    syncer, rounds = RouterThread(app, nginx), Rounds(app, client, created["uuid"])
    load = Burner(port, "burner.localhost")
    with settings_changed(app, autoscale_down_window=10.0):
        try:
            response = alice.post("/v2/apps/burner/builds", {"image": "pier-test/burn:1",
                                                             "procfile": {"web": "python3 /app/server.py"}})
            assert response.status_code == 201, response.get_json()
            # a CPU request of a tenth of a core: utilization is measured against it
            assert alice.post("/v2/apps/burner/config", {"cpu": {"web": "100m/1000m"}}).status_code == 201
            assert wait_for(lambda: rounds.running() == 1, 30)
            assert alice.post("/v2/apps/burner/settings", {"autoscale": {"web": rule}}).status_code == 201
            sync_once(app, nginx)  # nginx starts
            syncer.start()
            assert wait_for(lambda: fetch(port, "burner.localhost")[0] == 200, 30)
            rounds.start()
            load.start()
            assert wait_for(lambda: structure(alice, "burner")["web"] > 1, 120), log_of(alice, "burner")
            assert wait_for(lambda: rounds.running() > 1, 60)
            load.stop.set()
            load.join(timeout=15)
            assert wait_for(lambda: structure(alice, "burner")["web"] == 1 and rounds.running() == 1, 180), \
                log_of(alice, "burner")
        finally:
            load.stop.set()
            rounds.stop.set()
            syncer.stop.set()
            for thread in (load, rounds, syncer):
                if thread.ident is not None:
                    thread.join(timeout=30)
            remove_app_containers(client, created["uuid"])
    logs = log_of(alice, "burner")
    scaled = [line.split("autoscaled web ", 1)[1] for line in logs.splitlines() if "autoscaled web " in line]
    assert scaled and scaled[0].startswith("1\u2192") and scaled[-1].split(",")[0].endswith("\u21921"), scaled
    assert all("CPU" in line and "of 50 %" in line for line in scaled), scaled
    counts = [int(n) for line in scaled for n in line.split(",")[0].split("\u2192")]
    assert all(rule["min"] <= n <= rule["max"] for n in counts), scaled
    assert rounds.seen and all(rule["min"] <= n <= rule["max"] for n in rounds.seen), rounds.seen
    assert load.failures == [], load.failures[:5]
    print("\n" + "\n".join(scaled))
