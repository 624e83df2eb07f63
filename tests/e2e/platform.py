"""The whole platform, started as `make run` starts it (scripts/supervise and the Procfile), on its own
database, Redis db and ports, so a running platform is never disturbed."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import docker
import redis
from sqlalchemy import create_engine, text

from tests.support.builder import free_port
from tests.support.workers import FLEET, read_procfile

ROOT = Path(__file__).resolve().parents[2]
# Lines of the Procfile or of workers/Procfile (forked by the Procfile's `workers` line, workers/fleet.py). flower
# is left out: nothing here watches it. `periodic` runs beat in a thread, so the periodic rounds run as on a host.
PROCESSES = ("web", "worker", "builds", "runs", "periodic", "watcher", "router", "builder")
REDIS_URL = "redis://127.0.0.1:6379/10"


def _wait(what, check, log, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {seconds} s; the platform's log:\n{log.read_text()[-4000:]}")


class Platform:
    def __init__(self, workdir, processes=PROCESSES, database_url=None, redis_url=REDIS_URL, **settings):
        self.workdir = Path(workdir)
        self.processes = processes
        self.api_port, self.http_port, self.https_port, self.ssh_port = (free_port() for _ in range(4))
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.database_url = database_url or os.environ["PIER_TEST_DATABASE_URL"].rsplit("/", 1)[0] + "/pier_e2e"
        self.redis_url = redis_url
        self.log = self.workdir / "platform.log"
        # nginx's workers run as nobody and must reach the runtime folder: pytest's tmp folders are 0700
        self.router_runtime = tempfile.mkdtemp(prefix="pier-e2e-router-")
        os.chmod(self.router_runtime, 0o755)
        self.env = dict(
            os.environ, DATABASE_URL=self.database_url, REDIS_URL=redis_url, PIER_BIND=f"127.0.0.1:{self.api_port}",
            PIER_WEB_WORKERS="2", PIER_ROUTER_LISTEN=f"127.0.0.1:{self.http_port}",
            PIER_ROUTER_TLS_LISTEN=f"127.0.0.1:{self.https_port}", PIER_ROUTER_RUNTIME=self.router_runtime,
            PIER_BUILDER_LISTEN=f"127.0.0.1:{self.ssh_port}", PIER_BUILDER_HOST_KEY=str(self.workdir / "host_key"),
            PIER_GIT_ROOT=str(self.workdir / "git"), PIER_STORAGE_PATH=str(self.workdir / "storage"),
            PIER_CONTROLLER_URL=self.url, PIER_BEAT_SCHEDULE=str(self.workdir / "beat-schedule"),
            PIER_DOMAIN="e2e.localhost", PIER_DEPLOY_TIMEOUT="20",
            PIER_DRAIN_SECONDS="0.5", PIER_STOP_GRACE_SECONDS="3", PIER_BUILDER_PORT=str(self.ssh_port))
        self.env.update({f"PIER_{name.upper()}": str(value) for name, value in settings.items()})
        self.process = None

    def start(self):
        """A new platform: an empty database (migrated) and Redis db, then its processes."""
        engine = create_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        redis.Redis.from_url(self.redis_url).flushdb()
        self.migrate()
        self.launch()

    def migrate(self):
        subprocess.run(["flask", "--app", "core.app:create_migrations_app", "db", "upgrade", "--directory", "migrations"],
                       cwd=ROOT, env=self.env, check=True, capture_output=True)

    def launch(self):
        """Starts the processes, as `make run` does after its set-up, and waits until they answer."""
        log = open(self.log, "ab")
        self.process = subprocess.Popen([str(ROOT / "scripts" / "supervise"), "-f", str(self.procfile())],
                                        cwd=ROOT, env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait("the controller", lambda: urllib.request.urlopen(self.url + "/healthz", timeout=2).status == 200,
              self.log)
        for port in (self.http_port, self.ssh_port):
            _wait(f"port {port}", lambda: subprocess.run(["bash", "-c", f"echo > /dev/tcp/127.0.0.1/{port}"],
                                                         capture_output=True).returncode == 0, self.log)

    def procfile(self):
        """The Procfile's lines among self.processes, and the fleet's line with workers/Procfile's among them."""
        top = read_procfile(ROOT / "Procfile")
        lines = [f"{name}: {top[name]}" for name in self.processes if name in top]
        fleet = [name for name in self.processes if name not in top]
        if fleet:
            lines.append(f"{FLEET}: python -m workers.fleet {' '.join(fleet)}")
        path = self.workdir / "Procfile"
        path.write_text("\n".join(lines) + "\n")
        return path

    def halt(self):
        """Stops every process (as Ctrl-C on `make run`); the apps' containers keep running."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None

    def stop(self):
        self.halt()
        self.remove_containers()
        shutil.rmtree(self.router_runtime, ignore_errors=True)

    def pid_of(self, name):
        """The pid of the process the supervisor (or, for a line of workers/Procfile, the fleet) last started."""
        if name in read_procfile(ROOT / "Procfile"):
            pattern = rf"^\S+ {re.escape(name)}\s+\| started with pid (\d+)$"
        else:
            pattern = rf" fleet \| {re.escape(name)} started with pid (\d+)$"
        found = re.findall(pattern, self.log.read_text(), re.MULTILINE)
        return int(found[-1]) if found else None

    def remove_containers(self):
        engine = create_engine(self.database_url)
        with engine.connect() as conn:
            uuids = [str(u) for u in conn.execute(text("SELECT uuid FROM apps")).scalars()]
        engine.dispose()
        client = docker.from_env()
        for app_uuid in uuids:
            for container in client.containers.list(all=True, filters={"label": f"io.pier.app-uuid={app_uuid}"}):
                container.remove(force=True)

    def host(self, app):
        return f"{app}.e2e.localhost"

    def get(self, app, path="/", host=None, https=False, timeout=10):
        """(status, body) of a request through the router, with the app's Host header."""
        port = self.https_port if https else self.http_port
        scheme, host = ("https" if https else "http"), host or self.host(app)
        # --resolve, not a Host header, so that TLS sends the name as SNI too
        done = subprocess.run(["curl", "-sk", "-o", "-", "-w", "\n%{http_code}", "--max-time", str(timeout),
                               "--resolve", f"{host}:{port}:127.0.0.1", f"{scheme}://{host}:{port}{path}"],
                              capture_output=True, text=True)
        body, _, status = done.stdout.rpartition("\n")
        return int(status or 0), body

    def certificate(self, host):
        """The subject and names of the certificate the router presents for `host` (by SNI)."""
        done = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.https_port}", "-servername", host],
                              input="", capture_output=True, text=True, timeout=20)
        pem = done.stdout[done.stdout.find("-----BEGIN"):done.stdout.find("-----END CERTIFICATE-----") + 25]
        shown = subprocess.run(["openssl", "x509", "-noout", "-subject", "-ext", "subjectAltName"], input=pem,
                               capture_output=True, text=True)
        return shown.stdout
