"""Quotas and names no tenant may take: each used to be accepted (a fuzz run made 57 apps for one user; a
1 MB config value was copied into every release; scale took 1,000 per type; `*.com` and `localhost` were
taken), and each is now refused in the API's JSON error shape."""
import pytest

from tests.support.recording_scheduler import settings_changed

ASYNC = {"Prefer": "respond-async"}


def test_a_user_owns_at_most_the_app_quota_and_admins_none(app, alice, admin):
    with settings_changed(app, max_apps_per_user=3):
        for n in range(3):
            alice.create_app(f"mine-{n}")
        response = alice.post("/v2/apps", {"id": "one-too-many"})
        assert response.status_code == 403
        assert "PIER_MAX_APPS_PER_USER" in response.get_json()["detail"]
        for n in range(4):
            admin.create_app(f"admins-{n}")


def test_scale_is_bounded_per_type(app, alice):
    alice.create_app("scaled")
    with settings_changed(app, max_replicas=10):
        response = alice.post("/v2/apps/scaled/scale", {"web": 11})
    assert response.status_code == 400
    assert "PIER_MAX_REPLICAS" in response.get_json()["web"][0]


def test_the_config_is_bounded(app, alice):
    alice.create_app("bloated")
    with settings_changed(app, max_config_bytes=1024):
        assert alice.post("/v2/apps/bloated/config", {"values": {"SMALL": "x" * 500}}).status_code == 201
        response = alice.post("/v2/apps/bloated/config", {"values": {"HUGE": "x" * 600}})
    assert response.status_code == 400
    assert "PIER_MAX_CONFIG_BYTES" in response.get_json()["values"][0]
    assert "HUGE" not in alice.get("/v2/apps/bloated/config").get_json()["values"]


@pytest.mark.parametrize("domain", ["*.com", "com", "co.uk", "*.co.uk", "github.io", "*.github.io", "localhost",
                                   "*.localhost", "shop.localhost"])
def test_public_suffixes_and_localhost_are_nobodys_domain(alice, domain):
    alice.create_app("greedy")
    response = alice.post("/v2/apps/greedy/domains", {"domain": domain})
    assert response.status_code == 400, response.get_json()
    assert "domain" in response.get_json()


@pytest.mark.parametrize("domain", ["www.example.com", "*.example.com", "example.co.uk", "me.github.io"])
def test_a_registrable_domain_is_fine(alice, domain):
    alice.create_app("modest")
    assert alice.post("/v2/apps/modest/domains", {"domain": domain}).status_code == 201


def test_localhost_is_no_app_name_whatever_the_reserved_names(app, alice):
    with settings_changed(app, reserved_names=("pier",)):
        response = alice.post("/v2/apps", {"id": "localhost"})
    assert response.status_code == 400 and "reserved" in response.get_json()["id"][0]


def test_a_user_has_at_most_two_one_off_runs_going(app, alice, bob, monkeypatch):
    from core.extensions import db
    from core.models import App, User
    from core.services import releases
    alice.create_app("runner")
    bob.create_app("other-runner")
    with app.app_context():
        for name, user in (("runner", alice), ("other-runner", bob)):
            row = db.session.execute(db.select(App).where(App.id == name)).scalar_one()
            releases.new_build(row, db.session.get(User, user.id), "example/web:1", {"web": "serve"})
        db.session.commit()
    with settings_changed(app, max_runs_per_user=2):
        # their jobs are never sent (a worker of another test could take them): they stay pending, which counts
        monkeypatch.setattr("core.jobs.send", lambda *args, **kwargs: None)
        for _ in range(2):
            assert alice.post("/v2/apps/runner/run", {"command": "sleep 40"}, headers=ASYNC).status_code == 202
        refused = alice.post("/v2/apps/runner/run", {"command": "sleep 40"}, headers=ASYNC)
        assert refused.status_code == 429 and refused.headers["Retry-After"]
        assert "PIER_MAX_RUNS_PER_USER" in refused.get_json()["detail"]
        assert bob.post("/v2/apps/other-runner/run", {"command": "true"}, headers=ASYNC).status_code == 202


@pytest.mark.parametrize("probe", [{"httpGet": {"port": 8080, "host": "a\nb"}},
                                   {"httpGet": {"port": 8080, "path": "/x\r\nInjected: 1"}},
                                   {"httpGet": {"port": 8080, "httpHeaders": [{"name": "X\nY", "value": "v"}]}}])
def test_a_probe_that_would_break_its_own_check_is_refused(alice, probe):
    alice.create_app("probed")
    response = alice.post("/v2/apps/probed/config", {"healthcheck": {"web": {"livenessProbe": probe}}})
    assert response.status_code == 400
