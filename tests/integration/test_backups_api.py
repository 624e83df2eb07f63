"""Backups through the admin API and CLI: taken as a platform operation by a real worker with the real
pgBackRest against this machine's cluster (set up by `make test`'s scripts/database), listed, refused to
non-admins, and a failure visible in the API and readiness."""
from tests.support.recording_scheduler import settings_changed


def test_an_admin_takes_and_lists_backups_and_readiness_says_so(app, admin, alice, worker):
    assert alice.get("/v2/backups").status_code == 403
    assert alice.post("/v2/backups", {"type": "incr"}).status_code == 403
    response = admin.post("/v2/backups", {"type": "incr"})
    assert response.status_code == 201, response.get_json()
    taken = response.get_json()["backup"]
    assert taken["type"] in ("incr", "full") and taken["label"]
    listing = admin.get("/v2/backups").get_json()
    assert listing["error"] is None and listing["observed"]
    assert taken["label"] in [b["label"] for b in listing["results"]]
    assert {"label", "type", "start", "end", "size", "wal_start", "wal_stop"} <= set(listing["results"][-1])
    readiness = alice.client.get("/readiness").get_data(as_text=True)
    assert readiness.startswith("OK\n") and "backup succeeded at" in readiness


def test_a_backup_that_fails_says_why_in_the_api_and_readiness(app, admin, worker, tmp_path):
    broken = tmp_path / "pgbackrest.conf"
    broken.write_text("[global]\nrepo1-path=/nonexistent/pier-repository\n\n[pier]\npg1-path=/nowhere\n")
    with settings_changed(app, backup_config=str(broken)):
        response = admin.post("/v2/backups", {"type": "full"})
    assert response.status_code == 400
    detail = response.get_json()["detail"]
    assert detail and "Traceback" not in detail
    readiness = admin.client.get("/readiness").get_data(as_text=True)
    assert "backups: the last one FAILED" in readiness


def test_a_backup_type_is_one_of_full_diff_incr(admin):
    response = admin.post("/v2/backups", {"type": "weekly"})
    assert response.status_code == 400 and "type" in response.get_json()
