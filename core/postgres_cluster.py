"""A Debian PostgreSQL cluster (postgresql-common), found, created, started and queried as root.

Its configuration is under PG_CLUSTER_CONF_ROOT (/etc/postgresql unless set: the tests give each throwaway
cluster its own); PostgreSQL itself runs as the cluster's owner. scripts/database uses this to start Pier's
database with archiving on and to restore it.
"""
import os
import shutil
import subprocess
import time
from dataclasses import dataclass

PROGRESS_SECONDS = 10


class ClusterError(Exception):
    """A cluster command failed; the text holds its output or the end of the server's log."""


def run(argv, user=None, check=True):
    """Runs argv (as `user` through runuser) with its output captured; ClusterError when it fails."""
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, cwd="/")
    if check and done.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} failed:\n{(done.stderr or done.stdout).strip()}")
    return done


def owned_folder(path, user, mode=0o700):
    """Creates `path` (its parents as root's) and makes it the user's own with `mode`."""
    os.makedirs(path, exist_ok=True)
    shutil.chown(path, user, user)
    os.chmod(path, mode)


def data_state(path):
    """"database" (PG_VERSION is there), "empty" (a missing or empty folder) or "unknown" (other files)."""
    if not os.path.isdir(path):
        return "unknown" if os.path.lexists(path) else "empty"
    if os.path.exists(os.path.join(path, "PG_VERSION")):
        return "database"
    return "unknown" if os.listdir(path) else "empty"


@dataclass
class Cluster:
    version: str
    name: str
    port: int             # from pg_lsclusters once configured; before, the port to create it with
    data_directory: str   # likewise
    user: str = "postgres"
    status: str = "missing"  # missing (no configuration), down, online, online,recovery
    log: str = ""

    @property
    def configured(self):
        return self.status != "missing"

    @property
    def running(self):
        return self.status.startswith("online")

    @property
    def title(self):
        return f"PostgreSQL {self.version}/{self.name}"

    def conf_dir(self):
        return os.path.join(os.environ.get("PG_CLUSTER_CONF_ROOT", "/etc/postgresql"), self.version, self.name)

    def refresh(self):
        for line in run(["pg_lsclusters", "-h"]).stdout.splitlines():
            fields = line.split()
            if fields[:2] == [self.version, self.name]:
                self.port, self.status, self.data_directory = int(fields[2]), fields[3], fields[5]
                self.log = fields[6] if len(fields) > 6 else ""
                return self
        self.status = "missing"
        return self

    def socket_directory(self):
        done = run(["pg_conftool", "-s", self.version, self.name, "show", "unix_socket_directories"], check=False)
        first = done.stdout.strip().split(",")[0].strip() if done.returncode == 0 else ""
        return first or "/var/run/postgresql"

    def sql(self, query, check=True):
        done = run(["psql", "-X", "-A", "-t", "-q", "-h", self.socket_directory(), "-p", str(self.port),
                    "-d", "postgres", "-c", query], user=self.user, check=check)
        return done.stdout.strip() if done.returncode == 0 else None

    def answering(self):
        """Whether a server answers on the cluster's socket, even one that is starting or stopping."""
        done = run(["pg_isready", "-q", "-h", self.socket_directory(), "-p", str(self.port)], check=False)
        return done.returncode in (0, 1)

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def log_tail(self, since=0, lines=15):
        try:
            with open(self.log, "rb") as log:
                log.seek(since)
                return "\n".join(log.read().decode(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def create(self, initialize):
        """Creates the configuration (pg_createcluster) if there is none, adopting a data directory that
        holds a database. `initialize` leaves a fresh database in the data directory; otherwise it is left
        empty, for a restore."""
        if not self.configured:
            run(["pg_createcluster", self.version, self.name, "-p", str(self.port), "-d", self.data_directory])
            self.refresh()
            if not initialize:  # pg_createcluster runs initdb: empty what it just made
                for name in os.listdir(self.data_directory):
                    path = os.path.join(self.data_directory, name)
                    shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)
        elif initialize and data_state(self.data_directory) == "empty":
            owned_folder(self.data_directory, self.user)
            initdb = os.path.join("/usr/lib/postgresql", self.version, "bin", "initdb")
            run([initdb, "-D", self.data_directory, "--auth-local=peer", "--auth-host=scram-sha-256"], user=self.user)

    def start(self, progress=print):
        """Starts the cluster and returns, with where its log began, once it accepts writes: after a restore,
        once WAL is replayed. A replay takes as long as it takes; a server that dies is an error."""
        since = self.log_size()
        # pg_ctl's own wait gives up after a minute, and only waits for read-only connections anyway.
        done = run(["pg_ctlcluster", self.version, self.name, "start", "--", "-W"], check=False)
        self.refresh()
        if done.returncode != 0 and not self.running:
            raise ClusterError(f"{self.title} did not start:\n{(done.stderr or done.stdout).strip()}\n"
                               f"{self.log_tail(since)}")
        last = time.monotonic()
        while self.sql("SELECT pg_is_in_recovery()", check=False) != "f":
            if not self.refresh().running:
                raise ClusterError(f"{self.title} stopped while starting; its log ({self.log}) ends:\n"
                                   f"{self.log_tail(since)}")
            if time.monotonic() - last >= PROGRESS_SECONDS:
                progress(f"still replaying WAL (at {self.sql('SELECT pg_last_wal_replay_lsn()', check=False)})")
                last = time.monotonic()
            time.sleep(0.25)
        return since

    def restart(self):
        run(["pg_ctlcluster", self.version, self.name, "restart"])
        self.refresh()

    def reload(self):
        run(["pg_ctlcluster", self.version, self.name, "reload"])
