"""Database backups: base backup and restore times and the WAL lag for a database with 1,000 apps, next to
a plain pg_dump / pg_restore of the same data.

    scripts/with-env python bench/backup.py [--apps 1000] [--runs 5] [--lag-seconds 125]

Runs its own throwaway PostgreSQL cluster through scripts/database (tests/support/database.py: a Debian
cluster on a free port, its pgBackRest repository in a temporary filesystem store), migrates it with Pier's
migrations and seeds it as bench/api.py does. Then, each `--runs` times:

- full and incremental backup: `pgbackrest backup` through core.backups;
- restore: the disk is lost (immediate stop, data directory deleted) and scripts/database start restores
  the newest backup and replays WAL; timed until PostgreSQL accepts writes, as the script reports it, and
  in total (with the incremental backup it takes after a restore);
- pg_dump -Fc of the pier database, and pg_restore of that dump into an empty database.

The WAL lag is measured over `--lag-seconds` of one commit every 0.2 s: for each commit, the time until
pg_stat_archiver shows its WAL segment archived. Prints medians. A benchmark, not a test.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)

from bench.api import seed  # noqa: E402
from core.backups import Backups, BackupSettings  # noqa: E402
from tests.support.database import Sandbox  # noqa: E402


def timed(action):
    started = time.monotonic()
    action()
    return time.monotonic() - started


def as_postgres(*argv):
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, cwd="/")


def restore_once(box):
    box.wipe()
    started = time.monotonic()
    box.start()
    total = time.monotonic() - started
    restored = float(re.search(r"backup restored in ([\d.]+) s", box.output).group(1))
    writable = float(re.search(r"accepting writes ([\d.]+) s after the start", box.output).group(1))
    return restored, writable, total


def dump_and_restore(box, folder):
    dump = os.path.join(folder, "pier.dump")
    socket = ["-h", "/var/run/postgresql", "-p", str(box.port)]
    dumped = timed(lambda: as_postgres("pg_dump", *socket, "-Fc", "-f", dump, "pier"))
    box.psql("DROP DATABASE IF EXISTS pier_copy")
    box.psql("CREATE DATABASE pier_copy OWNER pier")
    restored = timed(lambda: as_postgres("pg_restore", *socket, "-d", "pier_copy", "--no-owner", dump))
    return dumped, restored, os.path.getsize(dump)


def wal_lag(box, seconds):
    """Seconds from each commit to its WAL segment being archived (commits still waiting count as waited
    so far)."""
    committed, segment_of, lag = {}, {}, {}
    with box.connect() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commits (id bigint PRIMARY KEY)")
        started = time.time()
        row = 0
        while time.time() - started < seconds:
            row += 1
            conn.execute("INSERT INTO bench_commits VALUES (%s)", (row,))
            committed[row] = time.time()
            segment_of[row] = conn.execute("SELECT pg_walfile_name(pg_current_wal_insert_lsn())").fetchone()[0]
            archived = conn.execute("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").fetchone()[0]
            now = time.time()
            for waiting in [r for r in committed if r not in lag and segment_of[r] <= archived]:
                lag[waiting] = now - committed[waiting]
            time.sleep(0.2)
    end = time.time()
    return [lag.get(r, end - committed[r]) for r in committed], len(lag)


def median(values):
    return statistics.median(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lag-seconds", type=float, default=125.0,
                        help="how long to commit while watching the archive (two archive_timeout periods)")
    options = parser.parse_args()

    box = Sandbox()
    folder = tempfile.mkdtemp(prefix="pier-bench-backup-", dir="/tmp")
    os.chmod(folder, 0o777)  # pg_dump and pg_restore run as postgres
    try:
        print(f"cluster {box.version}/{box.name} on port {box.port}; repository {box.store}/database")
        box.start()
        box.create_pier_database()
        started = time.monotonic()
        seed(box.url(), options.apps)
        print(f"seeded {options.apps} apps with Pier's migrations in {time.monotonic() - started:.1f} s")
        database = int(box.psql("SELECT pg_database_size('pier')"))
        cluster = int(box.psql("SELECT sum(pg_database_size(oid)) FROM pg_database"))
        print(f"pier database {database / 2**20:.1f} MiB; the whole cluster {cluster / 2**20:.1f} MiB")

        backups = Backups(BackupSettings(config=str(box.config), retention_full=options.runs + 2,
                                         retention_diff=options.runs + 2))
        fulls, incrs, stored = [], [], []
        for _ in range(options.runs):
            fulls.append(timed(lambda: stored.append(backups.take("full").repository_size)))
            box.psql("UPDATE apps SET updated = now() WHERE uuid IN (SELECT uuid FROM apps LIMIT 10)", "pier")
            incrs.append(timed(lambda: backups.take("incr")))
        restores = [restore_once(box) for _ in range(options.runs)]
        dumps = [dump_and_restore(box, folder) for _ in range(options.runs)]
        lags, archived = wal_lag(box, options.lag_seconds)

        print(f"\nmedians of {options.runs} runs")
        print(f"  pgBackRest full backup          {median(fulls):6.2f} s   "
              f"({median(stored) / 2**20:.1f} MiB stored, lz4; the whole cluster)")
        print(f"  pgBackRest incremental backup   {median(incrs):6.2f} s")
        print(f"  restore to accepting writes     {median(r[1] for r in restores):6.2f} s   "
              f"(pgBackRest restore {median(r[0] for r in restores):.2f} s, then WAL replay and start)")
        print(f"  scripts/database start, total   {median(r[2] for r in restores):6.2f} s   "
              "(with the incremental backup taken after a restore)")
        print(f"  pg_dump -Fc                     {median(d[0] for d in dumps):6.2f} s   "
              f"({median(d[2] for d in dumps) / 2**20:.1f} MiB; the pier database only)")
        print(f"  pg_restore                      {median(d[1] for d in dumps):6.2f} s")
        print(f"\nWAL lag, newest commit to archived ({len(lags)} commits over {options.lag_seconds:.0f} s, "
              f"{archived} of them archived; archive_timeout {backups.settings.archive_timeout} s)")
        print(f"  median {median(lags):5.1f} s   max {max(lags):5.1f} s")
    finally:
        box.drop()
        subprocess.run(["rm", "-rf", folder], check=False)


if __name__ == "__main__":
    main()
