"""A throwaway PostgreSQL cluster driven by scripts/database, as `make run` drives the platform's own.

Each Sandbox is a Debian cluster (postgresql-common) with its configuration under its own
PG_CLUSTER_CONF_ROOT, its data, pgBackRest configuration and filesystem store in a temporary folder, on a
free port: nothing of the shared cluster on 5432 is touched. PostgreSQL and pgBackRest run as the postgres
user, so the folder is under /tmp rather than pytest's root-only tmp_path.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from tests.support.s3 import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "sandbox-password"  # the pier role's, in a cluster that lives for one test
RESTRICT_KEY = "pierbackups"  # else pg_dump draws a random \restrict key for every dump
TEST_SECRETS = {"PIER_SECRET_KEY": "test-secret-key-" + "x" * 32, "PIER_BUILDER_KEY": "test-builder-key-" + "y" * 32}


def newest_version():
    return sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]


class Sandbox:
    def __init__(self, storage_env=None):
        self.folder = Path(tempfile.mkdtemp(prefix="pier-backups-", dir="/tmp"))
        self.folder.chmod(0o755)
        (self.folder / "etc").mkdir()
        shutil.chown(self.folder / "etc", "postgres", "postgres")
        self.version = newest_version()
        self.name = f"backups{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.data = self.folder / "data"
        self.store = self.folder / "storage"
        self.config = self.folder / "backup" / "pgbackrest.conf"
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("PIER_", "AWS_", "PGBACKREST_"))}
        self.env.update(TEST_SECRETS, PG_CLUSTER_CONF_ROOT=str(self.folder / "etc"),
                        PIER_STORAGE_PATH=str(self.store), PIER_BACKUP_CONFIG=str(self.config),
                        **(storage_env or {}))

    # scripts/database, as scripts/platform.sh runs it

    def start(self, *extra, check=True):
        done = subprocess.run([sys.executable, str(ROOT / "scripts" / "database"), "start",
                               "--cluster", f"{self.version}/{self.name}", "--port", str(self.port),
                               "--data-directory", str(self.data), *extra],
                              cwd=ROOT, env=self.env, capture_output=True, text=True)
        self.output = done.stdout + done.stderr
        if check:
            assert done.returncode == 0, self.output
        return done

    # The cluster

    def status(self):
        done = subprocess.run(["pg_lsclusters", "-h"], env=self.env, capture_output=True, text=True, check=True)
        for line in done.stdout.splitlines():
            fields = line.split()
            if fields[:2] == [self.version, self.name]:
                return fields[3]
        return "missing"

    def crash(self):
        """Stops PostgreSQL the way a lost machine does: no shutdown checkpoint, no last WAL archived."""
        subprocess.run(["pg_ctlcluster", self.version, self.name, "stop", "-m", "immediate"], env=self.env,
                       capture_output=True, check=True)

    def wipe(self):
        """The disk is gone: PostgreSQL crashes and its data directory disappears."""
        self.crash()
        shutil.rmtree(self.data)

    def psql(self, query, database="postgres"):
        done = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-q", "-v",
                               "ON_ERROR_STOP=1", "-h", "/var/run/postgresql", "-p", str(self.port), "-d", database,
                               "-c", query], capture_output=True, text=True, cwd="/")
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def create_pier_database(self):
        self.psql(f"CREATE ROLE pier LOGIN PASSWORD '{PASSWORD}'")
        self.psql("CREATE DATABASE pier OWNER pier")
        self.psql("CREATE EXTENSION amcheck", database="pier")

    def connect(self):
        return psycopg.connect(host="127.0.0.1", port=self.port, dbname="pier", user="pier", password=PASSWORD,
                               autocommit=True)

    def url(self):
        return f"postgresql+psycopg://pier:{PASSWORD}@127.0.0.1:{self.port}/pier"

    def archive_everything(self):
        """Switches WAL and waits until the archiver has stored the segment, so every commit so far is in
        the repository."""
        segment = self.psql("SELECT pg_walfile_name(pg_switch_wal())")
        while True:
            archived = self.psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            if archived >= segment:  # WAL file names sort in order (timeline, then position)
                return segment
            time.sleep(0.1)

    def dump(self):
        """The pier database and the roles, as text, for comparing states."""
        schema = subprocess.run(["runuser", "-u", "postgres", "--", "pg_dump", "-h", "/var/run/postgresql", "-p",
                                 str(self.port), "-d", "pier", f"--restrict-key={RESTRICT_KEY}"],
                                capture_output=True, text=True, check=True, cwd="/").stdout
        roles = subprocess.run(["runuser", "-u", "postgres", "--", "pg_dumpall", "-h", "/var/run/postgresql",
                                "-p", str(self.port), "--roles-only", f"--restrict-key={RESTRICT_KEY}"],
                               capture_output=True, text=True, check=True, cwd="/").stdout
        return roles + schema

    def amcheck(self):
        """(indexes checked, problems found) by amcheck on every B-tree index (heapallindexed: every heap
        tuple has its index entry) and every table of the pier database, system catalogs included."""
        checked = self.psql(
            "SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE a.amname = 'btree' AND c.relpersistence <> 't' AND i.indisready AND i.indisvalid) checks",
            database="pier")
        problems = self.psql("SELECT c.oid::regclass || ': ' || v.msg FROM pg_class c, verify_heapam(c.oid) v "
                             "WHERE c.relkind IN ('r', 'm', 't') AND c.relpersistence <> 't'", database="pier")
        return int(checked), [line for line in problems.splitlines() if line]

    def drop(self):
        if self.status() != "missing":
            subprocess.run(["pg_ctlcluster", self.version, self.name, "stop", "-m", "immediate"], env=self.env,
                           capture_output=True)
            subprocess.run(["pg_dropcluster", self.version, self.name], env=self.env, capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
        # What postgresql-common keeps outside the folder, left behind when a test broke its cluster.
        for path in (f"/var/log/postgresql/postgresql-{self.version}-{self.name}.log",
                     f"/var/run/postgresql/{self.version}-{self.name}.pid"):
            if os.path.exists(path):
                os.unlink(path)
