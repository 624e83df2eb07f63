"""Apps: create, list, info, transfer, destroy and logs (API.md sections 1 and 2.2)."""
import re
import time
from datetime import datetime

import pytest

from tests.support import deploy_image, release_list
from tests.support import recording_scheduler as recorder
from tests.support.recording_scheduler import recording_scheduler  # noqa: F401

APP_FIELDS = {"uuid", "id", "owner", "structure", "created", "updated"}


@pytest.fixture
def hello(alice):
    alice.create_app("hello")
    return alice


def share(owner, app_id, username):
    assert owner.post(f"/v2/apps/{app_id}/perms", {"username": username}).status_code == 201


def test_create_app_with_id(alice):
    response = alice.post("/v2/apps", {"id": "hello"})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == APP_FIELDS
    assert (body["id"], body["owner"], body["structure"]) == ("hello", "alice", {})
    for stamp in (body["created"], body["updated"]):
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    assert response.headers["DEIS_API_VERSION"] == "2.3"
    assert response.headers["DEIS_PLATFORM_VERSION"] == "2.3.0"


def test_create_app_without_id_gets_a_random_name(alice):
    response = alice.post("/v2/apps", {})
    assert response.status_code == 201
    name = response.get_json()["id"]
    assert re.fullmatch(r"[a-z]+-[a-z]+", name)
    assert alice.get(f"/v2/apps/{name}").get_json()["id"] == name


@pytest.mark.parametrize("name", ["Hello", "1hello", "hello-", "h" * 64, "hello_world", ""])
def test_create_app_with_invalid_name_is_refused(alice, name):
    response = alice.post("/v2/apps", {"id": name})
    assert response.status_code == 400
    assert "id" in response.get_json()
    assert alice.get("/v2/apps").get_json()["count"] == 0


def test_longest_valid_name_is_accepted(alice):
    assert alice.post("/v2/apps", {"id": "h" * 63}).status_code == 201


def test_create_app_with_reserved_name_is_refused(alice):
    response = alice.post("/v2/apps", {"id": "deis"})
    assert response.status_code == 400
    assert "reserved" in response.get_json()["id"][0]


def test_create_app_with_taken_id_conflicts(alice, bob):
    alice.create_app("hello")
    response = bob.post("/v2/apps", {"id": "hello"})
    assert response.status_code == 409
    assert "detail" in response.get_json()


def test_new_app_has_initial_release_and_domain(alice):
    alice.create_app("hello")
    releases = release_list(alice, "hello")
    assert len(releases) == 1
    first = releases[0]
    assert (first["version"], first["build"], first["failed"]) == (1, None, False)
    assert first["summary"] == "alice created initial release"
    domains = alice.get("/v2/apps/hello/domains").get_json()["results"]
    assert [d["domain"] for d in domains] == ["hello"]


def test_list_shows_owned_and_shared_apps_and_admin_sees_all(admin, alice, bob):
    alice.create_app("alpha")
    bob.create_app("beta")
    bob.create_app("gamma")
    share(bob, "gamma", "alice")
    assert [a["id"] for a in alice.get("/v2/apps").get_json()["results"]] == ["alpha", "gamma"]
    assert [a["id"] for a in bob.get("/v2/apps/").get_json()["results"]] == ["beta", "gamma"]
    everything = admin.get("/v2/apps").get_json()
    assert everything["count"] == 3
    assert [a["id"] for a in everything["results"]] == ["alpha", "beta", "gamma"]


def test_list_is_paginated_with_limit_and_offset(alice):
    for name in ("one", "two", "three"):
        alice.create_app(name)
    first = alice.get("/v2/apps?limit=2").get_json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert first["previous"] is None
    assert "limit=2" in first["next"] and "offset=2" in first["next"]
    second = alice.get(first["next"].split("localhost", 1)[1]).get_json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert "offset=0" in second["previous"]
    seen = [a["id"] for a in first["results"] + second["results"]]
    assert sorted(seen) == ["one", "three", "two"]


@pytest.mark.parametrize("query", ["limit=x", "offset=-1", "offset=99999999999999999999"])
def test_list_with_bad_or_huge_paging_answers_cleanly(alice, query):
    alice.create_app("one")
    response = alice.get(f"/v2/apps?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.get_json()["results"] == []


def test_list_needs_a_token(client):
    response = client.get("/v2/apps")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert "detail" in response.get_json()


def test_app_info(alice, bob):
    created = alice.create_app("hello")
    assert alice.get("/v2/apps/hello").get_json() == created
    assert bob.get("/v2/apps/hello").status_code == 403
    missing = alice.get("/v2/apps/nothing")
    assert missing.status_code == 404
    assert missing.get_json() == "No App matches the given query."


def test_transfer_gives_the_app_and_its_records_to_the_new_owner(alice, bob):
    alice.create_app("hello")
    assert alice.post("/v2/apps/hello/config", {"values": {"FOO": "1"}}).status_code == 201
    response = alice.post("/v2/apps/hello", {"owner": "bob"})
    assert response.status_code == 200
    assert bob.get("/v2/apps/hello").get_json()["owner"] == "bob"
    assert {r["owner"] for r in release_list(bob, "hello")} == {"bob"}
    assert bob.get("/v2/apps/hello/config").get_json()["owner"] == "bob"
    assert alice.get("/v2/apps/hello").status_code == 403


def test_collaborator_cannot_transfer(alice, bob):
    alice.create_app("hello")
    share(alice, "hello", "bob")
    response = bob.post("/v2/apps/hello", {"owner": "bob"})
    assert response.status_code == 403
    assert alice.get("/v2/apps/hello").get_json()["owner"] == "alice"


@pytest.mark.parametrize("owner", ["nobody", "no\u0000body"])
def test_transfer_to_unknown_user_is_not_found(alice, owner):
    alice.create_app("hello")
    response = alice.post("/v2/apps/hello", {"owner": owner})
    assert response.status_code in (400, 404)
    assert alice.get("/v2/apps/hello").get_json()["owner"] == "alice"


def test_destroy_app_without_build_needs_no_scheduler(alice, worker):
    alice.create_app("hello")
    response = alice.delete("/v2/apps/hello")
    assert response.status_code == 204
    assert alice.get("/v2/apps/hello").status_code == 404
    assert alice.get("/v2/apps").get_json()["count"] == 0
    assert alice.post("/v2/apps", {"id": "hello"}).status_code == 201


@pytest.mark.usefixtures("recording_scheduler")
def test_destroy_app_with_build_removes_its_containers(alice):
    created = alice.create_app("hello")
    deploy_image(alice, "hello")
    assert alice.delete("/v2/apps/hello").status_code == 204
    assert [c.app for c in recorder.calls("destroy")] == [created["uuid"]]
    assert alice.get("/v2/apps/hello").status_code == 404


def test_collaborator_cannot_destroy(alice, bob):
    alice.create_app("hello")
    share(alice, "hello", "bob")
    assert bob.delete("/v2/apps/hello").status_code == 403
    assert bob.get("/v2/apps/hello").status_code == 200


def test_stranger_cannot_destroy(alice, bob):
    alice.create_app("hello")
    assert bob.delete("/v2/apps/hello").status_code == 403
    assert alice.get("/v2/apps/hello").status_code == 200


def test_destroy_failure_keeps_the_app(alice, recording_scheduler):  # noqa: F811
    alice.create_app("hello")
    deploy_image(alice, "hello")
    recorder.fail_next("containers could not be removed", method="destroy")
    response = alice.delete("/v2/apps/hello")
    assert response.status_code == 400
    assert response.get_json() == {"detail": "containers could not be removed"}
    assert alice.get("/v2/apps/hello").status_code == 200
    assert alice.get("/v2/apps/hello/config").status_code == 200


def test_logs_show_platform_events(hello):
    hello.post("/v2/apps/hello/config", {"values": {"FOO": "1"}})
    response = hello.get("/v2/apps/hello/logs")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "alice created hello" in text
    assert "alice added FOO" in text
    assert text.index("alice created hello") < text.index("alice added FOO")


def test_log_lines_limits_the_lines(hello):
    for value in ("1", "2", "3"):
        hello.post("/v2/apps/hello/config", {"values": {"FOO": value}})
    lines = hello.get("/v2/apps/hello/logs?log_lines=2").get_data(as_text=True).splitlines()
    assert len(lines) == 2
    assert "v3" in lines[0] and "v4" in lines[1]


@pytest.mark.parametrize("value", ["many", "0", "-5", "1.5"])
def test_invalid_log_lines_is_refused(hello, value):
    response = hello.get(f"/v2/apps/hello/logs?log_lines={value}")
    assert response.status_code == 400
    assert "log_lines" in response.get_json()


def test_logs_are_private_to_app_users(hello, bob):
    assert bob.get("/v2/apps/hello/logs").status_code == 403


def test_follow_streams_new_log_lines(hello, client):
    response = client.get("/v2/apps/hello/logs?follow=true", headers=hello.headers(), buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    chunks, seen = iter(response.response), ""
    try:
        while "alice created hello" not in seen:
            seen += next(chunks).decode()
        hello.post("/v2/apps/hello/config", {"values": {"BAR": "1"}})
        deadline = time.monotonic() + 20
        while "alice added BAR" not in seen and time.monotonic() < deadline:
            seen += next(chunks, b"<stream ended>").decode()
            assert "<stream ended>" not in seen, "the follow stream ended after the history"
        assert "alice added BAR" in seen
    finally:
        response.close()


def test_every_view_and_request_hook_is_synchronous(app):
    # create_app tells Flask so (api._synchronous) instead of letting it ask inspect on every request
    import inspect
    hooks = list(app.teardown_appcontext_funcs)
    for table in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        hooks += [hook for functions in table.values() for hook in functions]
    coroutines = [f for f in [*app.view_functions.values(), *hooks] if inspect.iscoroutinefunction(f)]
    assert hooks and not coroutines
