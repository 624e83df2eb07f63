"""The whole platform, started as `make run` starts it (honcho and the Procfile), on its own database,
Redis db and ports, so a running platform is never disturbed."""
import os
import signal
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import docker
import redis
from sqlalchemy import create_engine, text

from tests.support.builder import free_port

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ("web", "worker", "router", "builder")  # beat and flower are left out: nothing here needs them
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
    raise RuntimeError(f"{what} did not come up within {seconds} s; honcho's log:\n{log.read_text()[-4000:]}")


class Platform:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.api_port, self.http_port, self.https_port, self.ssh_port = (free_port() for _ in range(4))
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.database_url = os.environ["PIER_TEST_DATABASE_URL"].rsplit("/", 1)[0] + "/pier_e2e"
        self.log = self.workdir / "honcho.log"
        # nginx's workers run as nobody and must reach the runtime folder: pytest's tmp folders are 0700
        self.router_runtime = tempfile.mkdtemp(prefix="pier-e2e-router-")
        os.chmod(self.router_runtime, 0o755)
        self.env = dict(
            os.environ, DATABASE_URL=self.database_url, REDIS_URL=REDIS_URL, PIER_BIND=f"127.0.0.1:{self.api_port}",
            PIER_WEB_WORKERS="2", PIER_ROUTER_LISTEN=f"127.0.0.1:{self.http_port}",
            PIER_ROUTER_TLS_LISTEN=f"127.0.0.1:{self.https_port}", PIER_ROUTER_RUNTIME=self.router_runtime,
            PIER_BUILDER_LISTEN=f"127.0.0.1:{self.ssh_port}", PIER_BUILDER_HOST_KEY=str(self.workdir / "host_key"),
            PIER_GIT_ROOT=str(self.workdir / "git"), PIER_STORAGE_PATH=str(self.workdir / "storage"),
            PIER_CONTROLLER_URL=self.url, PIER_DOMAIN="e2e.localhost", PIER_DEPLOY_TIMEOUT="20",
            PIER_DRAIN_SECONDS="0.5", PIER_STOP_GRACE_SECONDS="3", PIER_BUILDER_PORT=str(self.ssh_port))
        self.process = None

    def start(self):
        engine = create_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        redis.Redis.from_url(REDIS_URL).flushdb()
        subprocess.run(["flask", "--app", "api:create_app", "db", "upgrade", "--directory", "migrations"],
                       cwd=ROOT, env=self.env, check=True, capture_output=True)
        log = open(self.log, "wb")
        self.process = subprocess.Popen(["honcho", "start", "-f", "Procfile", *PROCESSES], cwd=ROOT, env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait("the controller", lambda: urllib.request.urlopen(self.url + "/healthz", timeout=2).status == 200,
              self.log)
        for port in (self.http_port, self.ssh_port):
            _wait(f"port {port}", lambda: subprocess.run(["bash", "-c", f"echo > /dev/tcp/127.0.0.1/{port}"],
                                                         capture_output=True).returncode == 0, self.log)

    def stop(self):
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.remove_containers()
        shutil.rmtree(self.router_runtime, ignore_errors=True)

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
