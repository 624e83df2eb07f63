"""Brute force and probing, as a hostile tenant would try them: rate limits on login, registration and the
builder's key look-up (counted in the test Redis), and login times that do not tell which usernames exist."""
import statistics
import time

import pytest

from api import create_app
from core.extensions import db
from core.models import User
from tests.conftest import settings_for_tests
from tests.factories import PASSWORD, Caller

ELSEWHERE = "198.51.100.7"


@pytest.fixture
def app_with(app):
    """Another app on the already migrated database and the same Redis, with some settings changed."""
    def make(**settings):
        return create_app(settings_for_tests(**settings))
    return make


def log_in(client, username, password, address="127.0.0.1", headers=None):
    return client.post("/v2/auth/login/", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers or {})


def assert_too_many(response, message, window=60):
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= window
    detail = response.get_json()["detail"]
    assert detail.startswith(message) and detail.endswith(f"try again in {response.headers['Retry-After']} seconds.")


def test_the_eleventh_wrong_login_within_a_minute_is_refused_even_with_the_right_password(client, alice, bob):
    # the default PIER_LOGIN_RATE: 10 failed logins a minute per username and client address
    assert [log_in(client, "alice", f"guess {n}").status_code for n in range(10)] == [400] * 10
    assert_too_many(log_in(client, "alice", "guess 11"), "Too many failed logins for this username")
    assert_too_many(log_in(client, "alice", PASSWORD), "Too many failed logins for this username")
    # the limit is per username and address: alice elsewhere, and bob here, still log in
    assert log_in(client, "alice", PASSWORD, address=ELSEWHERE).status_code == 200
    assert log_in(client, "bob", PASSWORD).status_code == 200


def test_right_passwords_are_not_counted(app_with, alice):
    client = app_with(login_rate="2/minute").test_client()
    assert [log_in(client, "alice", PASSWORD).status_code for _ in range(4)] == [200] * 4
    assert log_in(client, "alice", "wrong").status_code == 400


def test_the_counts_are_shared_by_every_web_worker(app_with, alice):
    # two app objects stand for two gunicorn workers: the counts live in Redis, not in a process
    first, second = (app_with(login_rate="2/minute").test_client() for _ in range(2))
    assert log_in(first, "alice", "wrong").status_code == 400
    assert log_in(second, "alice", "wrong").status_code == 400
    assert log_in(first, "alice", PASSWORD).status_code == 429


def test_without_redis_each_worker_still_counts(app_with, alice):
    client = app_with(login_rate="2/minute", redis_url="redis://127.0.0.1:1/0").test_client()  # nothing there
    assert [log_in(client, "alice", "wrong").status_code for _ in range(2)] == [400, 400]
    assert_too_many(log_in(client, "alice", PASSWORD), "Too many failed logins for this username")


def test_a_forged_forwarded_for_header_does_not_reset_the_count(app_with, alice):
    client = app_with(login_rate="2/minute").test_client()
    for n in range(2):
        assert log_in(client, "alice", "wrong", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code == 400
    assert log_in(client, "alice", PASSWORD, headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(app_with, alice):
    client = app_with(login_rate="2/minute", router_trusted_proxies=("127.0.0.0/8",)).test_client()
    behind = {"X-Forwarded-For": "203.0.113.5, 127.0.0.2"}  # the client, then a second trusted proxy
    assert [log_in(client, "alice", "wrong", headers=behind).status_code for _ in range(2)] == [400, 400]
    assert log_in(client, "alice", PASSWORD, headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    assert log_in(client, "alice", PASSWORD, headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 200
    # a client cannot pose as another one by putting an address in front: the proxy appends the real one
    spoofed = {"X-Forwarded-For": "203.0.113.77, 203.0.113.5"}
    assert log_in(client, "alice", PASSWORD, headers=spoofed).status_code == 429


def register(client, username, address="127.0.0.1", token=None):
    headers = {"Authorization": f"token {token}"} if token else {}
    return client.post("/v2/auth/register", json={"username": username, "password": "a long passphrase",
                                                  "email": f"{username}@example.com"},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_registration_is_rate_limited_per_address(app_with, admin):
    client = app_with(registration_mode="enabled", register_rate="2/hour").test_client()
    assert [register(client, name).status_code for name in ("one", "two")] == [201, 201]
    assert_too_many(register(client, "three"), "Too many registrations from your address", window=3600)
    assert register(client, "four", address=ELSEWHERE).status_code == 201


def test_an_administrator_registering_users_is_not_counted(app_with, admin):
    client = app_with(register_rate="2/hour").test_client()
    assert [register(client, f"user{n}", token=admin.token).status_code for n in range(4)] == [201] * 4


def look_up(client, fingerprint, key):
    return client.get(f"/v2/hooks/key/{fingerprint}", headers={"X-Deis-Builder-Auth": key} if key else {})


def test_key_look_ups_are_rate_limited_per_fingerprint(app_with, alice):
    flask_app = app_with(key_lookup_rate="2/minute")
    client, key = flask_app.test_client(), flask_app.config["PIER"].builder_key
    fingerprint, other = "SHA256:" + "a" * 43, "SHA256:" + "b" * 43
    # look-ups without the builder key are refused and not counted: nobody can use up a user's pushes
    assert [look_up(client, fingerprint, k).status_code for k in (None, "x" * 40, None)] == [401, 403, 401]
    assert [look_up(client, fingerprint, key).status_code for _ in range(2)] == [404, 404]
    assert_too_many(look_up(client, fingerprint, key), "Too many look-ups of this key")
    assert look_up(client, other, key).status_code == 404


def test_login_time_does_not_tell_whether_a_user_exists(app_with, alice):
    """A wrong password for an existing user and a login for an unknown one cost the same: the median gap
    over 20 pairs is under a tenth of what a login costs (one Argon2 verification is most of it; without the
    dummy verification of unknown users the gap is nearly all of it). Measured in the process's CPU time
    (Argon2's threads included), so that other processes loading the machine do not blur it, and relative to
    the login's own cost, since that cost differs from machine to machine (CI once saw a 10.6 ms gap on a
    220 ms login); the wall-clock figures are printed too."""
    client = app_with(login_rate="1000/minute").test_client()

    def attempt(username):
        wall, cpu = time.perf_counter(), time.process_time()
        assert log_in(client, username, "wrong password").status_code == 400
        return time.perf_counter() - wall, time.process_time() - cpu

    attempt("nobody")  # the dummy hash is made on the first miss
    pairs = []
    for round_ in range(20):
        order = ("alice", "nobody") if round_ % 2 else ("nobody", "alice")
        timed = {username: attempt(username) for username in order}
        pairs.append((timed["alice"], timed["nobody"]))
    cpu_gap = statistics.median(known[1] - unknown[1] for known, unknown in pairs)
    cpu_cost = statistics.median(known[1] for known, _ in pairs)
    wall_gap = statistics.median(known[0] - unknown[0] for known, unknown in pairs)
    print(f"median login: existing user {statistics.median(k[0] for k, _ in pairs) * 1000:.1f} ms, unknown user "
          f"{statistics.median(u[0] for _, u in pairs) * 1000:.1f} ms; median gap {wall_gap * 1000:.1f} ms wall, "
          f"{cpu_gap * 1000:.1f} ms CPU of {cpu_cost * 1000:.1f} ms")
    assert abs(cpu_gap) < cpu_cost / 10


def test_an_inactive_users_right_password_answers_like_a_wrong_one(alice, client, ctx):
    db.session.execute(db.update(User).where(User.username == "alice").values(is_active=False))
    db.session.commit()
    response = log_in(client, "alice", PASSWORD)
    assert response.status_code == 400 and list(response.get_json()) == ["non_field_errors"]
    assert Caller(client, "alice", alice.token).get("/v2/auth/whoami").status_code == 401
