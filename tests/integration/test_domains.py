from urllib.parse import quote

import pytest

LONG_NAME = ".".join(["a" * 63] * 3 + ["b" * 61])


def domains_of(caller, app_id):
    response = caller.get(f"/v2/apps/{app_id}/domains")
    assert response.status_code == 200
    return [d["domain"] for d in response.get_json()["results"]]


def test_new_app_lists_its_id_as_domain(alice):
    alice.create_app("hello")
    body = alice.get("/v2/apps/hello/domains").get_json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    domain = body["results"][0]
    assert domain["domain"] == "hello" and domain["app"] == "hello" and domain["owner"] == "alice"
    assert set(domain) == {"app", "owner", "domain", "created", "updated"}


def test_list_is_paginated(alice):
    alice.create_app("hello")
    for name in ("a.example.com", "b.example.com", "c.example.com"):
        assert alice.post("/v2/apps/hello/domains", {"domain": name}).status_code == 201
    body = alice.get("/v2/apps/hello/domains?limit=2").get_json()
    assert body["count"] == 4 and len(body["results"]) == 2
    assert "offset=2" in body["next"] and body["previous"] is None
    rest = alice.get("/v2/apps/hello/domains?limit=2&offset=2").get_json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    seen = [d["domain"] for d in body["results"] + rest["results"]]
    assert sorted(seen) == ["a.example.com", "b.example.com", "c.example.com", "hello"]


@pytest.mark.parametrize("name", ["example.com", "*.example.com"])
def test_add_domain(alice, name):
    alice.create_app("hello")
    response = alice.post("/v2/apps/hello/domains", {"domain": name})
    assert response.status_code == 201
    body = response.get_json()
    assert body["domain"] == name and body["app"] == "hello" and body["owner"] == "alice"
    assert name in domains_of(alice, "hello")


def test_idn_is_stored_as_punycode(alice):
    alice.create_app("hello")
    response = alice.post("/v2/apps/hello/domains", {"domain": "bücher.example"})
    assert response.status_code == 201
    assert response.get_json()["domain"] == "xn--bcher-kva.example"
    assert "xn--bcher-kva.example" in domains_of(alice, "hello")


def test_longest_name_is_accepted(alice):
    alice.create_app("hello")
    assert len(LONG_NAME) == 253
    assert alice.post("/v2/apps/hello/domains", {"domain": LONG_NAME}).status_code == 201


@pytest.mark.parametrize("name", [
    "*", LONG_NAME + "b", "-bad.example.com", "bad-.example.com", "bad_label.example.com", "a..b.com",
    "exa mple.com", "foo.*.example.com", "a" * 64 + ".com", "", "1.2.3.4",
])
def test_invalid_domain_is_refused(alice, name):
    alice.create_app("hello")
    response = alice.post("/v2/apps/hello/domains", {"domain": name})
    assert response.status_code == 400
    assert "domain" in response.get_json()
    assert domains_of(alice, "hello") == ["hello"]


def test_missing_domain_field_is_refused(alice):
    alice.create_app("hello")
    response = alice.post("/v2/apps/hello/domains", {})
    assert response.status_code == 400 and "domain" in response.get_json()


def test_duplicate_domain_on_same_app(alice):
    alice.create_app("hello")
    assert alice.post("/v2/apps/hello/domains", {"domain": "example.com"}).status_code == 201
    assert alice.post("/v2/apps/hello/domains", {"domain": "EXAMPLE.com."}).status_code == 409


def test_duplicate_domain_on_another_app(alice, bob):
    alice.create_app("hello")
    bob.create_app("other")
    assert alice.post("/v2/apps/hello/domains", {"domain": "bücher.example"}).status_code == 201
    response = bob.post("/v2/apps/other/domains", {"domain": "xn--bcher-kva.example"})
    assert response.status_code == 409
    assert domains_of(bob, "other") == ["other"]


def test_platform_name_of_another_app_is_refused(alice):
    alice.create_app("hello")
    response = alice.post("/v2/apps/hello/domains", {"domain": "other.localhost"})
    assert response.status_code == 400 and "domain" in response.get_json()
    assert alice.post("/v2/apps/hello/domains", {"domain": "hello.localhost"}).status_code == 201


def test_another_apps_id_is_refused(alice, bob):
    alice.create_app("hello")
    bob.create_app("other")
    assert alice.post("/v2/apps/hello/domains", {"domain": "other"}).status_code in (400, 409)


def test_delete_by_unicode_name(alice):
    alice.create_app("hello")
    alice.post("/v2/apps/hello/domains", {"domain": "bücher.example"})
    response = alice.delete("/v2/apps/hello/domains/" + quote("bücher.example"))
    assert response.status_code == 204
    assert domains_of(alice, "hello") == ["hello"]


def test_delete_by_ace_name(alice):
    alice.create_app("hello")
    alice.post("/v2/apps/hello/domains", {"domain": "bücher.example"})
    assert alice.delete("/v2/apps/hello/domains/xn--bcher-kva.example").status_code == 204
    assert domains_of(alice, "hello") == ["hello"]


def test_delete_wildcard(alice):
    alice.create_app("hello")
    alice.post("/v2/apps/hello/domains", {"domain": "*.example.com"})
    assert alice.delete("/v2/apps/hello/domains/*.example.com").status_code == 204
    assert domains_of(alice, "hello") == ["hello"]


def test_delete_unknown_domain(alice):
    alice.create_app("hello")
    response = alice.delete("/v2/apps/hello/domains/nothere.example.com")
    assert response.status_code == 404
    assert isinstance(response.get_json(), str)


def test_delete_domain_of_another_app_through_own_app(alice, bob):
    alice.create_app("hello")
    bob.create_app("other")
    bob.post("/v2/apps/other/domains", {"domain": "example.com"})
    assert alice.delete("/v2/apps/hello/domains/example.com").status_code == 404
    assert "example.com" in domains_of(bob, "other")


def test_unknown_app(alice):
    assert alice.get("/v2/apps/nothere/domains").status_code == 404
    assert alice.post("/v2/apps/nothere/domains", {"domain": "example.com"}).status_code == 404


def test_collaborator_may_add_but_not_delete(alice, bob):
    alice.create_app("hello")
    assert alice.post("/v2/apps/hello/perms", {"username": "bob"}).status_code == 201
    response = bob.post("/v2/apps/hello/domains", {"domain": "example.com"})
    assert response.status_code == 201 and response.get_json()["owner"] == "bob"
    assert bob.delete("/v2/apps/hello/domains/example.com").status_code == 403
    assert "example.com" in domains_of(alice, "hello")


def test_stranger_cannot_see_or_change_domains(alice, bob):
    alice.create_app("hello")
    assert bob.get("/v2/apps/hello/domains").status_code == 403
    assert bob.post("/v2/apps/hello/domains", {"domain": "example.com"}).status_code == 403
    assert bob.delete("/v2/apps/hello/domains/hello").status_code == 403
    assert domains_of(alice, "hello") == ["hello"]


def test_anonymous_is_refused(client, alice):
    alice.create_app("hello")
    response = client.get("/v2/apps/hello/domains")
    assert response.status_code == 401
