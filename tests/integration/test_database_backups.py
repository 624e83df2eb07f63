"""The database's WAL and base backups in object storage, and its restore on start, with real PostgreSQL and
pgBackRest: on the filesystem store and on S3 (moto behind a TLS-terminating nginx, credentials checked).

Each test runs its own throwaway cluster through scripts/database (tests/support/database.py); the shared
cluster on 5432 is never touched. A "wipe" is a lost disk: PostgreSQL stops without a shutdown checkpoint
and without archiving its last WAL, then its data directory is deleted.
"""
import difflib
import os
import pathlib
import pwd
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from core.backups import BackupError, Backups, BackupSettings
from tests.support.database import Sandbox
from tests.support.services import wait_until
from tests.support.tls_s3 import tls_s3  # noqa: F401 - fixture

LOSS_LIMIT = 60  # seconds: no commit older than this at the crash may be lost


def s3_env(s3):
    return {"PIER_STORAGE": "s3", "PIER_S3_ENDPOINT": s3.endpoint, "PIER_S3_BUCKET": f"pier-{uuid.uuid4().hex[:10]}",
            "PIER_S3_ACCESS_KEY": s3.access_key, "PIER_S3_SECRET_KEY": s3.secret_key, "PIER_S3_PATH_STYLE": "true",
            "PIER_BACKUP_S3_CA_FILE": s3.ca_file}


@pytest.fixture(params=["filesystem", "s3"])
def sandbox(request):
    s3 = request.getfixturevalue("tls_s3") if request.param == "s3" else None
    box = Sandbox(s3_env(s3) if s3 else {})
    box.s3 = s3
    yield box
    box.drop()


@pytest.fixture
def folder_sandbox():
    box = Sandbox()
    yield box
    box.drop()


@pytest.fixture
def running(sandbox):
    """A first start (a fresh cluster and its first full backup), then the pier role and database."""
    sandbox.start()
    sandbox.create_pier_database()
    return sandbox


def backups_of(box, **settings):
    return Backups(BackupSettings(config=str(box.config), **settings), redact=(box.env.get("PIER_S3_SECRET_KEY"),))


SETVAL = re.compile(r"^SELECT pg_catalog\.setval\('([^']+)', (\d+), (?:true|false)\);$",
                    re.MULTILINE)


def assert_same(expected, actual, what="the restored database"):
    """The dumps are the same, except that a sequence may come back ahead: PostgreSQL writes a sequence's
    WAL 32 values ahead, so any crash recovery (restored or not) skips some. It must never come back behind
    a value already handed out."""
    behind = {name: (int(before), int(dict(SETVAL.findall(actual)).get(name, 0)))
              for name, before in SETVAL.findall(expected)}
    behind = {name: values for name, values in behind.items() if values[1] < values[0]}
    assert behind == {}, f"{what}: sequences came back behind (before, after): {behind}"
    expected, actual = SETVAL.sub("setval(...)", expected), SETVAL.sub("setval(...)", actual)
    diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(), "before", "after",
                                          lineterm=""))
    assert diff == "", f"{what} differs from its state before the wipe:\n{diff}"


def test_a_first_start_archives_wal_and_takes_a_full_backup(sandbox):
    sandbox.start()
    assert "taking the first full backup" in sandbox.output
    assert sandbox.status() == "online"
    assert sandbox.psql("SHOW archive_mode") == "on"
    assert sandbox.psql("SHOW archive_timeout") == "55s"
    assert "archive-push" in sandbox.psql("SHOW archive_command")
    assert [backup.type for backup in backups_of(sandbox).list()] == ["full"]
    stat = os.stat(sandbox.config)
    assert stat.st_mode & 0o777 == 0o600 and stat.st_uid == pwd.getpwnam("postgres").pw_uid
    if "PIER_S3_SECRET_KEY" in sandbox.env:
        assert sandbox.env["PIER_S3_SECRET_KEY"] in sandbox.config.read_text()
        assert sandbox.env["PIER_S3_SECRET_KEY"] not in sandbox.output
        keys = [item["Key"] for item in sandbox.s3.client().list_objects_v2(
            Bucket=sandbox.env["PIER_S3_BUCKET"])["Contents"]]
        assert any(key.startswith("database/backup/pier/") for key in keys), keys[:5]
        assert any(key.startswith("database/archive/pier/") for key in keys), keys[:5]
    else:
        assert (sandbox.store / "database" / "backup" / "pier" / "backup.info").exists()

    sandbox.start()  # a second start of a running database checks and changes nothing
    assert "WAL archiving works" in sandbox.output
    assert len(backups_of(sandbox).list()) == 1


# A lost disk is a fault: the fault suite runs this (a minute on the filesystem, a minute and a half on S3).
# make test keeps a wipe and a restore: test_two_restore_cycles_in_a_row_give_back_the_same_database.
@pytest.mark.slow
@pytest.mark.parametrize("sandbox", ["filesystem", "s3"], indirect=True)
def test_a_wiped_database_is_restored_and_no_commit_older_than_its_archive_timeout_is_lost(sandbox):
    """As below, with archive_timeout at 10 s (PIER_BACKUP_ARCHIVE_TIMEOUT), so the whole suite can afford it on
    both stores; the default's own run (55 s, the 60 s promise) is in the slow suite."""
    sandbox.env["PIER_BACKUP_ARCHIVE_TIMEOUT"] = "10"
    sandbox.start()
    sandbox.create_pier_database()
    commit_wipe_and_restore(sandbox, archive_timeout=10, loss_limit=15)


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", ["filesystem"], indirect=True)
def test_a_wiped_database_is_restored_and_no_commit_older_than_60_s_is_lost(running):
    commit_wipe_and_restore(running, archive_timeout=55, loss_limit=LOSS_LIMIT)


def commit_wipe_and_restore(running, archive_timeout, loss_limit):
    """Commits go on for two archive periods while the test watches when each one's WAL segment reaches
    the store; then the disk is lost, and the start restores every commit older than `loss_limit` seconds."""
    committed, archived_after = {}, {}  # id -> when its commit returned; id -> seconds until archived
    segment_of = {}
    with running.connect() as conn:
        conn.execute("CREATE TABLE commits (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())")
        started = time.time()
        row = 0
        while time.time() - started < 2 * archive_timeout + 15:
            row += 1
            conn.execute("INSERT INTO commits (id) VALUES (%s)", (row,))
            committed[row] = time.time()
            segment_of[row] = conn.execute("SELECT pg_walfile_name(pg_current_wal_insert_lsn())").fetchone()[0]
            archived = conn.execute("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").fetchone()[0]
            now = time.time()
            for pending in [r for r in committed if r not in archived_after and segment_of[r] <= archived]:
                archived_after[pending] = now - committed[pending]
            time.sleep(0.2)
    crashed_at = time.time()
    running.wipe()
    running.start()
    assert "restoring the newest backup" in running.output

    with running.connect() as conn:
        restored = {id_ for (id_,) in conn.execute("SELECT id FROM commits")}
    old = {r for r, at in committed.items() if at < crashed_at - loss_limit}
    assert len(old) > 20
    assert old <= restored, f"lost commits older than {loss_limit} s: {sorted(old - restored)[:10]}"
    assert restored <= set(committed)
    # The lag from commit to store, over every commit: the archived ones, and those still waiting at the crash.
    lags = [archived_after.get(r, crashed_at - committed[r]) for r in committed]
    assert max(lags) < loss_limit, f"a commit waited {max(lags):.1f} s for its WAL to reach the store"
    assert max(lags) > archive_timeout / 2, "archive_timeout did not set the pace: something else switched segments"


def write_a_cycle(box, cycle):
    """Inserts, updates, deletes and a schema change: every cycle leaves a state unlike the one before."""
    with box.connect() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS apps (id serial PRIMARY KEY, name text UNIQUE NOT NULL, "
                     "config jsonb NOT NULL DEFAULT '{}', created timestamptz NOT NULL DEFAULT now())")
        conn.execute("CREATE TABLE IF NOT EXISTS releases (id bigserial PRIMARY KEY, "
                     "app_id int NOT NULL REFERENCES apps ON DELETE CASCADE, version int NOT NULL, "
                     "summary text NOT NULL, UNIQUE (app_id, version))")
        conn.execute(f"ALTER TABLE apps ADD COLUMN cycle_{cycle} int NOT NULL DEFAULT {cycle}")
        conn.execute(f"CREATE INDEX apps_cycle_{cycle} ON apps (cycle_{cycle}, name)")
        conn.execute("INSERT INTO apps (name, config) SELECT 'app-' || %s || '-' || i, "
                     "jsonb_build_object('GREETING', md5(i::text)) FROM generate_series(1, 200) i", (cycle,))
        conn.execute("INSERT INTO releases (app_id, version, summary) SELECT a.id, v, repeat('x', v * 50) "
                     "FROM apps a, generate_series(1, 5) v WHERE a.name LIKE 'app-' || %s || '-%%'", (cycle,))
        conn.execute("UPDATE apps SET config = config || jsonb_build_object('CYCLE', %s) WHERE id %% 3 = 0",
                     (cycle,))
        conn.execute("DELETE FROM apps WHERE id %% 7 = %s", (cycle,))


@pytest.mark.parametrize("sandbox", ["filesystem"], indirect=True)
def test_two_restore_cycles_in_a_row_give_back_the_same_database(running):
    restore_cycles(running, 2)


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", ["s3"], indirect=True)
def test_five_restore_cycles_in_a_row_give_back_the_same_database_on_s3(running):
    restore_cycles(running, 5)


def restore_cycles(running, cycles):
    for cycle in range(cycles):
        write_a_cycle(running, cycle)
        running.archive_everything()
        expected = running.dump()
        running.wipe()
        running.start()
        assert "restoring the newest backup" in running.output, running.output
        assert_same(expected, running.dump(), f"cycle {cycle}")
        checked, problems = running.amcheck()
        assert checked > 100 and problems == [], f"cycle {cycle}: {problems}"
        assert int(running.psql(f"SELECT count(*) FROM apps WHERE name LIKE 'app-{cycle}-%'", "pier")) > 150
    assert int(running.psql("SELECT timeline_id FROM pg_control_checkpoint()")) == cycles + 1


def test_an_unreadable_store_folder_is_never_initialized_over(folder_sandbox):
    box = folder_sandbox
    box.start()
    box.create_pier_database()
    write_a_cycle(box, 0)
    box.archive_everything()
    expected = box.dump()
    box.wipe()
    repository = box.store / "database"
    shutil.chown(repository, "root", "root")  # the postgres user can no longer list it

    done = box.start(check=False)
    assert done.returncode == 1
    assert "refusing to initialize an empty database" in box.output
    assert "Permission denied" in box.output and str(repository) in box.output
    assert not box.data.exists() or not any(box.data.iterdir())
    assert box.status() != "online"

    shutil.chown(repository, "postgres", "postgres")
    box.start()
    assert "restoring the newest backup" in box.output
    assert_same(expected, box.dump())


@pytest.mark.slow
def test_s3_with_a_wrong_secret_is_never_initialized_over(tls_s3):  # noqa: F811
    box = Sandbox(s3_env(tls_s3))
    try:
        box.start()
        box.create_pier_database()
        write_a_cycle(box, 0)
        box.archive_everything()
        expected = box.dump()
        box.wipe()
        good = box.env["PIER_S3_SECRET_KEY"]
        box.env["PIER_S3_SECRET_KEY"] = "wrong-" + uuid.uuid4().hex

        done = box.start(check=False)
        assert done.returncode == 1
        assert "refusing to initialize an empty database" in box.output
        assert "SignatureDoesNotMatch" in box.output and "PIER_S3_SECRET_KEY" in box.output
        assert box.env["PIER_S3_SECRET_KEY"] not in box.output and good not in box.output
        assert not box.data.exists() or not any(box.data.iterdir())
        with pytest.raises(BackupError, match="SignatureDoesNotMatch") as caught:
            backups_of(box).list()
        assert box.env["PIER_S3_SECRET_KEY"] not in str(caught.value)

        box.env["PIER_S3_SECRET_KEY"] = good
        box.start()
        assert "restoring the newest backup" in box.output
        assert_same(expected, box.dump())
    finally:
        box.drop()


def test_an_admin_restores_to_a_point_in_time(folder_sandbox):
    box = folder_sandbox
    box.start()
    box.create_pier_database()
    with box.connect() as conn:
        conn.execute("CREATE TABLE notes (body text)")
        conn.execute("INSERT INTO notes VALUES ('before')")
        time.sleep(1.1)
        target = conn.execute("SELECT now()").fetchone()[0]
        time.sleep(1.1)
        conn.execute("INSERT INTO notes VALUES ('after')")
    newer = backups_of(box).take("diff")  # a backup past the target: the restore must pick an older one
    assert newer.type == "diff"
    box.archive_everything()

    # The documented procedure: stop, move the data directory aside, start with --target.
    subprocess.run(["pg_ctlcluster", box.version, box.name, "stop"], env=box.env, check=True)
    box.data.rename(box.data.with_name("data.before-restore"))
    box.start("--target", target.isoformat(sep=" "))
    assert box.psql("SELECT string_agg(body, ',') FROM notes", "pier") == "before"
    box.psql("INSERT INTO notes VALUES ('new timeline')", "pier")  # writable: promoted, not paused
    assert "full backup" in box.output and "taken after the restore" in box.output
    box.archive_everything()

    # Losing the disk now brings back the new timeline, never the 'after' that was gone back past.
    box.wipe()
    box.start()
    assert box.psql("SELECT string_agg(body, ',' ORDER BY body) FROM notes", "pier") == "before,new timeline"


def test_backups_are_listed_taken_and_expired_through_core_backups(folder_sandbox):
    box = folder_sandbox
    box.start()
    backups = backups_of(box, retention_full=1, retention_diff=1)
    [full] = backups.list()
    assert full.type == "full" and full.prior is None and full.start <= full.end
    assert full.size > 10 * 2**20 and 0 < full.repository_size < full.size
    assert full.wal_start <= full.wal_stop
    diff = backups.take("diff")
    incr = backups.take("incr")
    assert (diff.type, diff.prior, incr.type, incr.prior) == ("diff", full.label, "incr", diff.label)
    assert [backup.label for backup in backups.list()] == [full.label, diff.label, incr.label]
    assert backups.list()[-1].as_dict()["wal_stop"] == incr.wal_stop

    second = backups.take("full")  # retention 1: the first full goes, and what was built on it
    assert [backup.label for backup in backups.list()] == [second.label]
    backups.check()
    with pytest.raises(BackupError, match="a backup is one of full, diff, incr"):
        backups.take("weekly")

    shutil.chown(box.store / "database", "root", "root")
    try:
        with pytest.raises(BackupError, match="cannot be read.*Permission denied"):
            backups.list()
        with pytest.raises(BackupError, match="Permission denied"):
            backups.take("incr")
    finally:
        shutil.chown(box.store / "database", "postgres", "postgres")



def test_settings_pgbackrest_cannot_work_with_stop_the_start_before_anything_is_made():
    box = Sandbox({"PIER_STORAGE": "s3", "PIER_S3_ENDPOINT": "http://127.0.0.1:9000", "PIER_S3_PATH_STYLE": "true"})
    try:
        done = box.start(check=False)
        assert done.returncode == 1 and "pgBackRest's S3 client speaks HTTPS only" in box.output
        assert box.status() == "missing" and not box.data.exists()
        done = box.start("--target", "2024-06-01 12:00:00", check=False)
        assert done.returncode == 2 and "needs its time zone" in box.output
    finally:
        box.drop()


def pg_isready(port):
    """0 when a server accepts connections on the port, 2 when nothing answers there."""
    return subprocess.run(["pg_isready", "-q", "-h", "/var/run/postgresql", "-p", str(port)]).returncode


def test_a_server_that_lost_its_data_directory_while_running_is_stopped_before_a_restore(folder_sandbox):
    box = folder_sandbox
    box.start()
    postmaster = int((box.data / "postmaster.pid").read_text().split()[0])
    shutil.rmtree(box.data)  # under a running server, as `rm -rf` on a live machine does

    done = box.start(check=False)
    assert done.returncode == 1 and f"still answers on port {box.port}" in box.output
    assert not box.data.exists()

    # The admin stops the orphaned server as `pg_ctlcluster` would (immediate shutdown): unlike SIGKILL it
    # removes its socket lock, which would otherwise name a pid that stays a zombie until PID 1 reaps it.
    os.kill(postmaster, signal.SIGQUIT)
    lock = pathlib.Path(f"/var/run/postgresql/.s.PGSQL.{box.port}.lock")
    wait_until(lambda: not lock.exists() and pg_isready(box.port) == 2, "the orphaned server stopping on SIGQUIT")
    box.start()
    assert "restoring the newest backup" in box.output


def test_a_cluster_running_without_archiving_is_restarted_only_when_asked(folder_sandbox):
    box = folder_sandbox  # an installation from before backups: its cluster made and started without them
    subprocess.run(["pg_createcluster", box.version, box.name, "-p", str(box.port), "-d", str(box.data),
                    "--start"], env=box.env, check=True, capture_output=True)
    started = box.psql("SELECT pg_postmaster_start_time()")

    box.start()
    assert "running without WAL archiving" in box.output and "--restart" in box.output
    assert box.psql("SELECT pg_postmaster_start_time()") == started, "restarted although not asked to"
    assert box.psql("SHOW archive_mode") == "off" and backups_of(box).list() == []

    box.start("--restart")
    assert box.psql("SHOW archive_mode") == "on"
    assert [backup.type for backup in backups_of(box).list()] == ["full"]
