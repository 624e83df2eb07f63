"""The platform under faults: started as `make run` starts it (every Procfile process but flower, under
scripts/supervise), on a Redis and a PostgreSQL of its own so a test may flush, restart or kill them, with
apps deployed through its API and load sent through its router.

Used by tests/faults (which assert) and bench/faults.py (which prints the figures)."""
import http.client
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import docker
import requests

from tests.e2e.platform import Platform
from tests.support.docker_apps import build_images
from tests.support.services import TemporaryPostgres, TemporaryRedis

PROCESSES = ("web", "worker", "builds", "runs", "periodic", "watcher", "router", "builder")


class FaultPlatform:
    def __init__(self, workdir, postgres=None):
        """`postgres`: a database with `url`, `sql(statement, database)` and `remove()`; a new one if None."""
        self.workdir = workdir
        self.redis = TemporaryRedis(workdir / "redis").start()
        self.postgres = postgres or TemporaryPostgres().start()
        self.platform = Platform(workdir, processes=PROCESSES, database_url=self.postgres.url,
                                 redis_url=self.redis.url, deploy_timeout=30, drain_seconds=1,
                                 stop_grace_seconds=3)
        self.api = None
        self.docker = build_images()

    def start(self):
        self.platform.start()
        self.api = Api(self.platform.url)
        self.api.register("ada")
        return self

    def stop(self):
        self.platform.stop()
        self.redis.stop()
        self.postgres.remove()

    # -- apps --------------------------------------------------------------------------------------------
    def deploy(self, app, image="pier-test/web:one", replicas=1, values=None):
        if self.api.get(f"/v2/apps/{app}").status_code == 404:
            self.api.ok("post", "/v2/apps", {"id": app})
        if values:
            self.api.ok("post", f"/v2/apps/{app}/config", {"values": values})
        self.api.ok("post", f"/v2/apps/{app}/builds", {"image": image})
        if replicas != 1:
            self.api.ok("post", f"/v2/apps/{app}/scale", {"cmd": replicas})

    def get(self, app, path="/", timeout=5):
        """(status, body) through the router, or (0, error) when no answer came."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.platform.http_port}{path}",
                                         headers={"Host": self.platform.host(app)})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""
        except (OSError, http.client.HTTPException) as error:  # a refused connection, a truncated answer
            return 0, repr(error)

    def containers(self, app):
        # ignore_removed: the platform may remove a container between the listing and its inspection
        return self.docker.containers.list(all=True, ignore_removed=True, filters={"label": f"io.pier.app={app}"})

    def process_containers(self, app):
        return [c for c in self.containers(app) if c.labels.get("io.pier.type") != "run"]

    def operations(self, states=("pending", "running")):
        rows = self.postgres.sql("SELECT kind || ' ' || coalesce(app_id, '-') || ' ' || state FROM operations "
                                 f"WHERE state IN ({', '.join(repr(s) for s in states)})", "pier")
        return [row for row in rows.splitlines() if row]

    def releases(self, app):
        rows = self.postgres.sql("SELECT r.version || ' ' || r.state FROM releases r JOIN apps a "
                                 f"ON a.uuid = r.app_uuid WHERE a.id = '{app}' ORDER BY r.version", "pier")
        return [row for row in rows.splitlines() if row]

    def count_rows(self):
        return {table: int(self.postgres.sql(f"SELECT count(*) FROM {table}", "pier"))
                for table in ("users", "apps", "releases", "builds", "configs", "domains", "keys")}

    # -- faults ------------------------------------------------------------------------------------------
    def kill_process(self, name):
        """SIGKILL of one Pier process; the supervisor starts it again."""
        pid = wait_until(lambda: running(self.platform.pid_of(name)), 35, f"{name} running (it may be pausing)")
        os.kill(pid, signal.SIGKILL)
        return pid

    def restart_dockerd(self):
        subprocess.run(["pkill", "-x", "dockerd"], check=False)
        deadline = time.monotonic() + 60
        while subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True).returncode == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("dockerd did not stop within 60 s")
            time.sleep(0.2)
        log = open(self.workdir / "dockerd.log", "ab")
        subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("dockerd did not come back within 60 s")
            time.sleep(0.5)
        self.docker = docker.from_env()

    def reboot(self):
        """What a machine reboot does to the platform: every process stops, Redis restarts from its files,
        then `make run` starts the processes again (containers keep their restart policy)."""
        self.platform.halt()
        self.redis.restart()
        self.platform.migrate()
        self.platform.launch()


class Api:
    """A logged-in administrator talking to the platform's API."""

    def __init__(self, url):
        self.url, self.http = url, requests.Session()

    def register(self, username):
        body = {"username": username, "password": "a long passphrase", "email": f"{username}@example.com"}
        requests.post(f"{self.url}/v2/auth/register/", json=body, timeout=30).raise_for_status()
        answer = requests.post(f"{self.url}/v2/auth/login/", json={"username": username,
                                                                    "password": "a long passphrase"}, timeout=30)
        self.http.headers["Authorization"] = f"token {answer.json()['token']}"

    def _send(self, method, path, **kwargs):
        """As a user does, tries again for a while when the controller is not there (its process restarting)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return self.http.request(method, self.url + path, **kwargs)
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def get(self, path, **kwargs):
        return self._send("GET", path, timeout=60, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self._send("POST", path, json=body if body is not None else {}, timeout=180, **kwargs)

    def ok(self, method, path, body=None, **kwargs):
        answer = getattr(self, method)(path, body, **kwargs) if method == "post" else self.get(path, **kwargs)
        if answer.status_code >= 400:
            raise AssertionError(f"{method.upper()} {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer


class Load(threading.Thread):
    """Requests through the router, one after the other from a few threads, each answer recorded with its time:
    (monotonic time, status, body)."""

    def __init__(self, faults, app, threads=2, pause=0.02):
        super().__init__(daemon=True)
        self.faults, self.app, self.threads, self.pause = faults, app, threads, pause
        self.answers, self.stop, self.lock = [], threading.Event(), threading.Lock()

    def run(self):
        workers = [threading.Thread(target=self.loop, daemon=True) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def loop(self):
        while not self.stop.is_set():
            status, body = self.faults.get(self.app, timeout=5)
            with self.lock:
                self.answers.append((time.monotonic(), status, body))
            time.sleep(self.pause)

    def finish(self):
        self.stop.set()
        self.join(timeout=30)
        return self

    def failures_after(self, since):
        return [a for a in self.answers if a[0] >= since and a[1] != 200]

    def recovered_at(self, since, body, steady=20):
        """When the app began answering `body` for good after `since`: the first of `steady` right answers in a
        row that the load never broke again; None if it never did."""
        answers = [a for a in self.answers if a[0] >= since]
        last_wrong = max((i for i, a in enumerate(answers) if (a[1], a[2]) != (200, body)), default=-1)
        good = answers[last_wrong + 1:]
        return good[0][0] if len(good) >= steady else None


def running(pid):
    """The pid if that process is alive, else None."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, TypeError):  # TypeError: no pid at all
        return None
    return pid


def wait_until(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {seconds} s")
