"""`pier gc`: an administrator collects old builds and reads what was freed; a rollback to one says why not."""
from tests.support.recording_scheduler import settings_changed


def test_gc_reports_what_it_collected_and_a_rollback_to_it_is_refused(app, logged_in, recording_scheduler):
    logged_in("apps:create", "gc-cli")
    for n in range(3):  # v2, v3, v4: tags that were never pushed, so only the records are collected
        logged_in("pull", f"127.0.0.1:5000/gc-cli:git-0000000{n}", "-a", "gc-cli")
    with settings_changed(app, retention_releases=1):
        result = logged_in("gc")
        assert result.stderr.startswith("Collecting old builds... done in")
        assert result.stdout.splitlines() == [
            "Registry: 0 images deleted; skipped: no registry config on this machine (PIER_REGISTRY_CONFIG is "
            "empty); the registry's layers were not swept",
            "Object storage: 0 files, 0 B freed",
            "Docker engine: 0 images removed, 0 B freed",
            "gc-cli: collected git-00000000",  # v3 stays: a plain rollback goes back to it
        ]
        refused = logged_in("rollback", "v2", "-a", "gc-cli", code=1)
        assert ("Release v2's image was collected by garbage collection (PIER_RETENTION_RELEASES keeps the last 1)"
                in refused.stderr)
    logged_in("rollback", "v3", "-a", "gc-cli")
