"""The database's disk is lost while the platform runs. `make run`'s set-up again restores it from its backups
(scripts/database: pgBackRest's newest base backup and the WAL archived since), and users, apps, releases and
config come back as they were, while the router serves the apps throughout; then Pier's processes are started
again as a second `make run` does, and the apps are served again.

The database is a throwaway cluster with its WAL archived to a filesystem store, set up by scripts/database as
`make run` sets up the platform's own (tests/support/database.py); the shared cluster on 5432 is never touched.
"""
import time

import pytest

from tests.support.database import Sandbox
from tests.support.faults import FaultPlatform, Load, wait_until

pytestmark = pytest.mark.slow


class ArchivedPostgres:
    """A Sandbox in the shape FaultPlatform uses."""

    def __init__(self, sandbox):
        self.sandbox, self.url = sandbox, sandbox.url()

    def sql(self, statement, database="postgres"):
        return self.sandbox.psql(statement, database)

    def remove(self):
        self.sandbox.drop()


def state(faults):
    """What users see of their apps: the apps, and each one's releases and config values."""
    apps = sorted(app["id"] for app in faults.api.get("/v2/apps").json()["results"])
    return {app: (faults.releases(app), faults.api.get(f"/v2/apps/{app}/config").json()["values"]) for app in apps}


def test_the_database_disk_lost_then_make_run_again(tmp_path):
    sandbox = Sandbox()
    sandbox.start()
    sandbox.create_pier_database()
    faults = FaultPlatform(tmp_path, postgres=ArchivedPostgres(sandbox)).start()
    try:
        faults.deploy("kept", values={"GREETING": "kept"})
        faults.deploy("kept", image="pier-test/web:two")
        faults.deploy("also", replicas=2)
        before, rows = state(faults), faults.count_rows()
        assert set(before) == {"kept", "also"} and len(before["kept"][0]) == 4
        # What the loss may take is what archive_timeout (55 s) had not shipped yet; here everything is shipped.
        sandbox.archive_everything()

        load = Load(faults, "kept")
        load.start()
        time.sleep(2)
        since = time.monotonic()
        sandbox.wipe()
        time.sleep(5)  # the platform runs on without its database for a while
        # `make run`'s set-up again (scripts/database restores the data directory, then the migration), while
        # Pier's processes keep running and reconnect by themselves
        sandbox.start()
        assert "restoring the newest backup" in sandbox.output, sandbox.output
        faults.platform.migrate()
        back = wait_until(lambda: faults.api.get("/v2/apps").status_code == 200 and time.monotonic(), 120,
                          "the API answering again")
        time.sleep(2)
        assert not load.failures_after(since), f"kept was not served throughout: {load.failures_after(since)[:3]}"
        assert state(faults) == before
        assert faults.count_rows() == rows

        # and Pier's processes stopped and started again, as a second `make run` does: the router stops nginx
        # when it stops, so the routes go dark until the new router serves them
        restarted = time.monotonic()
        faults.platform.halt()
        faults.platform.launch()
        again = wait_until(lambda: load.recovered_at(restarted, "two"), 90, "kept served after the restart")
        load.finish()
        assert state(faults) == before
        print(f"\ndatabase lost and restored: the API answered again {back - since:.1f} s after the loss, kept served"
              f" throughout; after Pier's processes restarted, kept was served again in {again - restarted:.1f} s")
        faults.deploy("kept", image="pier-test/web:one")  # and the platform works on
        assert faults.get("kept") == (200, "one")
    finally:
        faults.stop()
