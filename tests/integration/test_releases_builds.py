"""Builds (deploying an image) and releases (history, rollback), with a real worker (API.md 2.6, 2.7)."""
import pytest

from tests.support import deploy_image, latest_release, release_list
from tests.support import recording_scheduler as recorder
from tests.support.recording_scheduler import recording_scheduler  # noqa: F401

BUILD_FIELDS = {"uuid", "app", "owner", "image", "sha", "procfile", "dockerfile", "created", "updated"}
RELEASE_FIELDS = {"uuid", "app", "owner", "version", "build", "config", "summary", "failed", "created", "updated"}
built = pytest.mark.usefixtures("recording_scheduler")


@pytest.fixture
def hello(alice):
    alice.create_app("hello")
    return alice


def config_uuid(caller):
    return caller.get("/v2/apps/hello/config").get_json()["uuid"]


@built
def test_build_deploys_the_image(hello):
    response = hello.post("/v2/apps/hello/builds", {"image": "example/web:v1"})
    assert response.status_code == 201
    build = response.get_json()
    assert set(build) == BUILD_FIELDS
    assert (build["app"], build["owner"], build["image"], build["procfile"]) == ("hello", "alice",
                                                                                "example/web:v1", {})
    release = latest_release(hello, "hello")
    assert (release["version"], release["build"], release["state"], release["failed"]) == (
        2, build["uuid"], "deployed", False)
    assert release["summary"] == "alice deployed example/web:v1"
    assert hello.get("/v2/apps/hello").get_json()["structure"] == {"cmd": 1}
    [deploy] = recorder.calls("deploy")
    assert deploy.app == "hello"
    assert deploy.args["spec"].image == "example/web:v1"
    assert deploy.args["spec"].version == 2
    assert deploy.args["structure"] == {"cmd": 1}


@built
def test_build_with_procfile_starts_web_only(hello):
    build = deploy_image(hello, "hello", procfile={"web": "bin/web", "worker": "bin/worker"})
    assert build["procfile"] == {"web": "bin/web", "worker": "bin/worker"}
    assert hello.get("/v2/apps/hello").get_json()["structure"] == {"web": 1, "worker": 0}
    assert recorder.calls("deploy")[0].args["spec"].procfile == build["procfile"]


@built
def test_build_deploys_the_current_config(hello):
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "bar"}, "memory": {"cmd": "256M"}})
    deploy_image(hello, "hello")
    spec = recorder.calls("deploy")[0].args["spec"]
    assert spec.env["FOO"] == "bar" and spec.env["DEIS_RELEASE"] == "v3"
    assert spec.memory == {"cmd": "256M"}


@pytest.mark.parametrize("body", [
    {"image": "example/web:v1", "procfile": {"Web": "bin/web"}},
    {"image": "example/web:v1", "procfile": {"web_app": "bin/web"}},
    {"image": "example/web:v1", "procfile": {"web": "  "}},
    {"image": "example/web:v1", "procfile": {"web": 5}},
    {"image": "example/web:v1", "procfile": ["web"]},
    {"image": "example web"},
    {"image": "example/web\u0000:v1"},
    {"image": "example/web:v1", "sha": "abc\u0000"},
    {"image": "example/web:v1", "procfile": {"web": "bin/web\u0000"}},
    {"image": ""},
    {},
])
def test_invalid_build_is_refused(hello, worker, body):
    response = hello.post("/v2/apps/hello/builds", body)
    assert response.status_code == 400
    assert len(release_list(hello, "hello")) == 1
    assert hello.get("/v2/apps/hello/builds").get_json()["count"] == 0


@built
def test_list_and_show_builds(hello):
    first = deploy_image(hello, "hello", image="example/web:v1")
    second = deploy_image(hello, "hello", image="example/web:v2")
    listed = hello.get("/v2/apps/hello/builds").get_json()
    assert listed["count"] == 2
    assert [b["uuid"] for b in listed["results"]] == [second["uuid"], first["uuid"]]
    assert hello.get(f"/v2/apps/hello/builds/{first['uuid']}").get_json() == first
    for missing in ("6f1c4c1e-9c53-4d2c-a7a5-2b8f9f1e0a11", "not-a-uuid"):
        response = hello.get(f"/v2/apps/hello/builds/{missing}")
        assert response.status_code == 404
        assert response.get_json() == "No Build matches the given query."


def test_build_without_scheduler_fails_cleanly(hello, worker):
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    response = hello.post("/v2/apps/hello/builds", {"image": "example/web:v1"})
    assert response.status_code == 400
    assert response.get_json()["detail"].startswith("No scheduler is configured")
    release = latest_release(hello, "hello")
    assert (release["version"], release["failed"], release["state"]) == (3, True, "failed")
    assert "No scheduler is configured" in release["exception"]
    config = hello.get("/v2/apps/hello/config").get_json()
    assert config["values"]["DEIS_RELEASE"] == "v2" and config["values"]["FOO"] == "1"


def test_release_list_is_newest_first(hello):
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "2"}})
    body = hello.get("/v2/apps/hello/releases").get_json()
    assert body["count"] == 3
    assert [r["version"] for r in body["results"]] == [3, 2, 1]
    assert RELEASE_FIELDS <= set(body["results"][0])


def test_release_info(hello):
    response = hello.get("/v2/apps/hello/releases/v1")
    assert response.status_code == 200
    release = response.get_json()
    assert (release["version"], release["build"], release["summary"]) == (1, None, "alice created initial release")
    assert release["config"] == config_uuid(hello)
    missing = hello.get("/v2/apps/hello/releases/v9")
    assert missing.status_code == 404
    assert missing.get_json() == "No Release matches the given query."


def test_release_version_beyond_integer_range_is_not_found(hello):
    response = hello.get("/v2/apps/hello/releases/v99999999999999999999")
    assert response.status_code == 404
    assert response.get_json() == "No Release matches the given query."


def test_rollback_defaults_to_the_previous_release(hello):
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    v2_config = config_uuid(hello)
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "2"}})
    response = hello.post("/v2/apps/hello/releases/rollback", {})
    assert response.status_code == 201
    assert response.get_json() == {"version": 4}
    release = latest_release(hello, "hello")
    assert release["config"] == v2_config and release["summary"] == "alice rolled back to v2"
    assert hello.get("/v2/apps/hello/config").get_json()["values"]["FOO"] == "1"


def test_rollback_to_an_explicit_version(hello):
    for value in ("1", "2", "3"):
        hello.post("/v2/apps/hello/config", {"values": {"FOO": value}})
    response = hello.post("/v2/apps/hello/releases/rollback", {"version": 2})
    assert response.status_code == 201 and response.get_json() == {"version": 5}
    assert hello.get("/v2/apps/hello/config").get_json()["values"]["FOO"] == "1"


@pytest.mark.parametrize("version,message", [(1, "Cannot roll back to initial release."),
                                             (0, "version cannot be below 0"),
                                             (-3, "version cannot be below 0")])
def test_rollback_to_unusable_versions_is_refused(hello, version, message):
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    response = hello.post("/v2/apps/hello/releases/rollback", {"version": version})
    assert response.status_code == 400
    assert response.get_json() == {"detail": message}
    assert len(release_list(hello, "hello")) == 2


@pytest.mark.parametrize("version", [9, 99999999999])
def test_rollback_to_a_missing_version_is_refused(hello, version):
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    response = hello.post("/v2/apps/hello/releases/rollback", {"version": version})
    assert response.status_code == 400
    assert set(response.get_json()) & {"detail", "version"}
    assert len(release_list(hello, "hello")) == 2


def test_default_rollback_from_v2_is_refused(hello):
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    response = hello.post("/v2/apps/hello/releases/rollback")
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Cannot roll back to initial release."}


def test_rollback_to_a_failed_release_is_refused(hello, worker):
    assert hello.post("/v2/apps/hello/builds", {"image": "example/web:v1"}).status_code == 400
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    response = hello.post("/v2/apps/hello/releases/rollback", {"version": 2})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Cannot roll back to failed release."}


@built
def test_rollback_redeploys_the_old_build_and_config(hello):
    first = deploy_image(hello, "hello", image="example/web:v1")
    v2_config = config_uuid(hello)
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    deploy_image(hello, "hello", image="example/web:v2")
    response = hello.post("/v2/apps/hello/releases/rollback", {"version": 2})
    assert response.status_code == 201 and response.get_json() == {"version": 5}
    release = latest_release(hello, "hello")
    assert (release["build"], release["config"], release["state"]) == (first["uuid"], v2_config, "deployed")
    last_deploy = recorder.calls("deploy")[-1].args["spec"]
    assert (last_deploy.image, last_deploy.version) == ("example/web:v1", 5)
    assert "FOO" not in last_deploy.env


@built
def test_failed_config_deploy_keeps_the_previous_config(hello):
    deploy_image(hello, "hello")
    recorder.fail_next("container would not start", method="deploy")
    response = hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "container would not start"}
    release = latest_release(hello, "hello")
    assert (release["version"], release["failed"]) == (3, True)
    assert release["summary"] == "alice deployed a config that failed"
    config = hello.get("/v2/apps/hello/config").get_json()
    assert "FOO" not in config["values"] and config["values"]["DEIS_RELEASE"] == "v2"
    assert hello.get("/v2/apps/hello/releases/v2").get_json()["state"] == "deployed"


def test_only_the_newest_good_release_is_deployed(hello):
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    states = [(r["version"], r["state"]) for r in release_list(hello, "hello")]
    assert states == [(2, "deployed"), (1, "superseded")]


@built
def test_deploy_supersedes_older_releases(hello):
    deploy_image(hello, "hello", image="example/web:v1")
    deploy_image(hello, "hello", image="example/web:v2")
    states = [(r["version"], r["state"]) for r in release_list(hello, "hello")]
    assert states == [(3, "deployed"), (2, "superseded"), (1, "superseded")]


@built
def test_rollback_runs_the_process_types_of_the_old_build(hello):
    deploy_image(hello, "hello", image="example/web:v1", procfile={"web": "bin/web", "worker": "bin/worker"})
    deploy_image(hello, "hello", image="example/web:v2")
    assert hello.get("/v2/apps/hello").get_json()["structure"] == {"cmd": 1}
    assert hello.post("/v2/apps/hello/releases/rollback", {"version": 2}).status_code == 201
    structure = hello.get("/v2/apps/hello").get_json()["structure"]
    assert set(structure) == {"web", "worker"} and structure["web"] >= 1
    assert recorder.calls("deploy")[-1].args["structure"] == structure


def test_build_without_procfile_is_refused_when_configured(app, hello, worker):
    with recorder.installed(app, reject_if_procfile_missing=True):
        deploy_image(hello, "hello", procfile={"web": "bin/web"})
        response = hello.post("/v2/apps/hello/builds", {"image": "example/web:v2"})
        assert response.status_code == 409
        assert "Procfile" in response.get_json()["detail"]
        assert len(release_list(hello, "hello")) == 2
        assert len(recorder.calls("deploy")) == 1


@built
def test_rollback_to_a_release_from_before_the_first_build_is_refused(hello):
    hello.post("/v2/apps/hello/config", {"values": {"EARLY": "1"}})
    deploy_image(hello, "hello", image="example/web:v1")
    response = hello.post("/v2/apps/hello/releases/rollback", {"version": 2})
    assert response.status_code == 400
    assert "Cannot roll back to v2: it predates the app's first build." in str(response.get_json())
    assert latest_release(hello, "hello")["version"] == 3
