import datetime
from urllib.parse import quote

import pytest

from tests.support.planted import plant_certificate
from tests.unit.test_certificates import NOW, chain, colon_sha256, pem, rsa_key, self_signed

FIELDS = {"id", "name", "owner", "common_name", "san", "domains", "fingerprint", "issuer", "subject", "starts",
          "expires", "created", "updated", "problem"}


@pytest.fixture
def pair():
    return self_signed("example.com", san=["example.com", "www.example.com"])


def upload(caller, name, pair):
    _, cert_text, key_text = pair
    return caller.post("/v2/certs", {"name": name, "certificate": cert_text, "key": key_text})


@pytest.fixture
def uploaded(alice, pair):
    response = upload(alice, "example-com", pair)
    assert response.status_code == 201, response.get_json()
    return alice


@pytest.fixture
def with_domain(uploaded):
    uploaded.create_app("hello")
    assert uploaded.post("/v2/apps/hello/domains", {"domain": "www.example.com"}).status_code == 201
    return uploaded


def test_upload(alice, pair):
    cert = pair[0]
    response = upload(alice, "example-com", pair)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == FIELDS
    assert body["name"] == "example-com" and body["owner"] == "alice"
    assert body["common_name"] == "example.com"
    assert body["san"] == ["example.com", "www.example.com"]
    assert body["fingerprint"] == colon_sha256(cert)
    assert body["issuer"] == body["subject"] == "/O=Pier Tests/CN=example.com"
    assert body["starts"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["expires"] == (NOW + datetime.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["domains"] == []
    assert body["problem"] is None


def test_name_with_a_dot_is_refused(alice, pair):
    response = upload(alice, "example.com", pair)
    assert response.status_code == 400 and "name" in response.get_json()
    assert alice.get("/v2/certs").get_json()["count"] == 0


def test_swapped_files_are_refused(alice, pair):
    _, cert_text, key_text = pair
    response = alice.post("/v2/certs", {"name": "example-com", "certificate": key_text, "key": cert_text})
    assert response.status_code == 400
    assert {"certificate", "key"} <= set(response.get_json())


def test_key_of_another_certificate_is_refused(alice, pair):
    _, _, other_key = self_signed("example.com")
    response = alice.post("/v2/certs", {"name": "example-com", "certificate": pair[1], "key": other_key})
    assert response.status_code == 400 and "key" in response.get_json()


def test_a_weak_key_is_refused_saying_what_nginx_needs(alice):
    response = upload(alice, "weak", self_signed("example.com", key=rsa_key(1024)))
    assert response.status_code == 400 and "2048" in response.get_json()["key"][0], response.get_json()
    assert alice.get("/v2/certs").get_json()["count"] == 0


def test_an_expired_certificate_is_refused(alice):
    long_ago = NOW - datetime.timedelta(days=400)
    response = upload(alice, "old", self_signed("example.com", starts=long_ago, days=90))
    assert response.status_code == 400 and "expired" in response.get_json()["certificate"][0]
    assert alice.get("/v2/certs").get_json()["count"] == 0


def test_a_chain_out_of_order_is_refused_and_in_order_taken(alice):
    leaf, intermediate, root, key_text = chain()
    response = alice.post("/v2/certs", {"name": "chained", "certificate": pem(leaf, root, intermediate),
                                        "key": key_text})
    assert response.status_code == 400 and "out of order" in response.get_json()["certificate"][0]
    response = alice.post("/v2/certs", {"name": "chained", "certificate": pem(leaf, intermediate, root),
                                        "key": key_text})
    assert response.status_code == 201 and response.get_json()["common_name"] == "www.example.com"


def test_the_name_of_the_platform_certificate_is_refused(alice, pair):
    response = upload(alice, "default", pair)
    assert response.status_code == 400 and "reserved" in response.get_json()["name"][0]
    assert alice.get("/v2/certs").get_json()["count"] == 0


def test_attach_checks_a_stored_certificate_again(app, with_domain):
    """A certificate stored before uploads were checked is refused at attach, as at upload."""
    _, cert_text, key_text = self_signed("www.example.com", key=rsa_key(1024))
    plant_certificate(app, "alice", "legacy-weak", cert_text, key_text)
    response = with_domain.post("/v2/certs/legacy-weak/domain/", {"domain": "www.example.com"})
    assert response.status_code == 400 and "2048" in str(response.get_json()), response.get_json()
    assert with_domain.get("/v2/certs/legacy-weak").get_json()["domains"] == []


def test_garbage_is_refused(alice):
    response = alice.post("/v2/certs", {"name": "example-com", "certificate": "nope", "key": "nope"})
    assert response.status_code == 400
    assert alice.get("/v2/certs").get_json()["count"] == 0


def test_missing_fields_are_refused(alice, pair):
    response = alice.post("/v2/certs", {"name": "example-com", "certificate": pair[1]})
    assert response.status_code == 400 and "key" in response.get_json()


def test_duplicate_name(uploaded, bob, pair):
    assert upload(uploaded, "example-com", pair).status_code == 409
    assert upload(bob, "example-com", self_signed("other.example")).status_code == 409


def test_list_and_info(uploaded, pair):
    body = uploaded.get("/v2/certs").get_json()
    assert body["count"] == 1 and body["results"][0]["name"] == "example-com"
    response = uploaded.get("/v2/certs/example-com")
    assert response.status_code == 200
    assert response.get_json()["fingerprint"] == colon_sha256(pair[0])


def test_info_of_unknown_cert(alice):
    response = alice.get("/v2/certs/nothere")
    assert response.status_code == 404 and isinstance(response.get_json(), str)


def test_attach_and_detach(with_domain):
    response = with_domain.post("/v2/certs/example-com/domain/", {"domain": "www.example.com"})
    assert response.status_code == 201
    assert with_domain.get("/v2/certs/example-com").get_json()["domains"] == ["www.example.com"]
    again = with_domain.post("/v2/certs/example-com/domain/", {"domain": "www.example.com"})
    assert again.status_code == 409
    assert with_domain.delete("/v2/certs/example-com/domain/www.example.com").status_code == 204
    assert with_domain.get("/v2/certs/example-com").get_json()["domains"] == []


def test_attach_with_domain_in_url(with_domain):
    assert with_domain.post("/v2/certs/example-com/domain/www.example.com").status_code == 201
    assert with_domain.get("/v2/certs/example-com").get_json()["domains"] == ["www.example.com"]


def test_attach_and_detach_by_unicode_name(uploaded):
    uploaded.create_app("hello")
    uploaded.post("/v2/apps/hello/domains", {"domain": "bücher.example"})
    assert uploaded.post("/v2/certs/example-com/domain/", {"domain": "bücher.example"}).status_code == 201
    assert uploaded.get("/v2/certs/example-com").get_json()["domains"] == ["xn--bcher-kva.example"]
    assert uploaded.delete("/v2/certs/example-com/domain/" + quote("bücher.example")).status_code == 204
    assert uploaded.get("/v2/certs/example-com").get_json()["domains"] == []


def test_domain_with_a_cert_refuses_another(with_domain):
    upload(with_domain, "second", self_signed("www.example.com"))
    with_domain.post("/v2/certs/example-com/domain/", {"domain": "www.example.com"})
    response = with_domain.post("/v2/certs/second/domain/", {"domain": "www.example.com"})
    assert response.status_code == 409
    assert with_domain.get("/v2/certs/second").get_json()["domains"] == []


def test_attach_to_unknown_domain(uploaded):
    response = uploaded.post("/v2/certs/example-com/domain/", {"domain": "nothere.example.com"})
    assert response.status_code == 404


def test_attach_unknown_cert(with_domain):
    response = with_domain.post("/v2/certs/nothere/domain/", {"domain": "www.example.com"})
    assert response.status_code == 404


def test_attach_without_domain(uploaded):
    assert uploaded.post("/v2/certs/example-com/domain/", {}).status_code == 400


def test_detach_a_cert_that_is_not_attached(with_domain):
    assert with_domain.delete("/v2/certs/example-com/domain/www.example.com").status_code == 404


def test_other_user_cannot_see_or_attach(with_domain, bob):
    assert bob.get("/v2/certs/example-com").status_code == 404
    assert bob.get("/v2/certs").get_json()["count"] == 0
    bob.create_app("other")
    bob.post("/v2/apps/other/domains", {"domain": "other.example.com"})
    response = bob.post("/v2/certs/example-com/domain/", {"domain": "other.example.com"})
    assert response.status_code == 404
    assert bob.delete("/v2/certs/example-com").status_code == 404
    assert with_domain.get("/v2/certs/example-com").status_code == 200


def test_own_cert_on_another_users_domain(with_domain, bob):
    upload(bob, "bobs", self_signed("www.example.com"))
    response = bob.post("/v2/certs/bobs/domain/", {"domain": "www.example.com"})
    assert response.status_code == 403
    assert bob.get("/v2/certs/bobs").get_json()["domains"] == []


def test_admin_sees_every_cert(uploaded, admin):
    assert admin.get("/v2/certs").get_json()["count"] == 1
    assert admin.get("/v2/certs/example-com").status_code == 200


def test_delete(uploaded):
    assert uploaded.delete("/v2/certs/example-com").status_code == 204
    assert uploaded.get("/v2/certs/example-com").status_code == 404
    assert uploaded.get("/v2/certs").get_json()["count"] == 0
    assert uploaded.delete("/v2/certs/example-com").status_code == 404


def test_delete_attached_cert_frees_the_domain(with_domain):
    with_domain.post("/v2/certs/example-com/domain/", {"domain": "www.example.com"})
    assert with_domain.delete("/v2/certs/example-com").status_code == 204
    upload(with_domain, "second", self_signed("www.example.com"))
    assert with_domain.post("/v2/certs/second/domain/", {"domain": "www.example.com"}).status_code == 201
