"""Throwaway Redis and PostgreSQL servers of a test's own, on free ports, that the test may flush, stop and
restart without disturbing the shared ones other tests use."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql") / sorted(os.listdir("/usr/lib/postgresql"))[-1] / "bin"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not happen within {seconds} s")


def accepting(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class TemporaryRedis:
    """redis-server with AOF persistence in a folder of its own, as `make run` runs it."""

    def __init__(self, folder):
        self.folder, self.port, self.process = Path(folder), free_port(), None
        self.folder.mkdir(parents=True, exist_ok=True)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "yes",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: accepting(self.port), "Redis accepting connections")
        return self

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def restart(self, lose_data=False):
        """Stops the server and starts it again. With `lose_data`, as the issue's fault says: FLUSHALL first
        (the live data goes, and the AOF records it), then the files go too (a lost disk)."""
        if lose_data:
            import redis
            redis.Redis.from_url(self.url).flushall()
        self.stop()
        if lose_data:
            shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)
        self.start()


class TemporaryPostgres:
    """A PostgreSQL cluster of its own (initdb into a temporary folder, run as the postgres user)."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="pier-pg-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.data, self.port = self.folder / "data", free_port()
        self.url = f"postgresql+psycopg://pier:pier-test-password@127.0.0.1:{self.port}/pier"

    def _as_postgres(self, *command, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=check, capture_output=True,
                              text=True, cwd="/")

    def start(self):
        if not self.data.exists():
            self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = "
                           f"'{self.folder}'\nfsync = off\n")
            self._pg_ctl("start")
            self.sql("CREATE ROLE pier LOGIN PASSWORD 'pier-test-password'")
            self.sql("CREATE DATABASE pier OWNER pier")
        else:
            self._pg_ctl("start")
        return self

    def _pg_ctl(self, *args):
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.folder / "log"), *args)

    def sql(self, statement, database="postgres"):
        return self._as_postgres(str(PG_BIN / "psql"), "-h", str(self.folder), "-p", str(self.port), "-U", "postgres",
                                 "-d", database, "-Atc", statement).stdout

    def restart(self):
        self._pg_ctl("-m", "fast", "restart")

    def stop(self):
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop", check=False)

    def remove(self):
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
