"""The builder under test: a live controller (the test Flask app over HTTP), the real sshd as a process,
and users pushing with the real OpenSSH client and git."""
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker
import pytest
from werkzeug.serving import make_server

from core.endpoints import Endpoints
from core.extensions import db
from core.models import App
from tests.support.docker_apps import build_images, get, remove_app_containers
from tests.support.recording_scheduler import settings_changed

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveController:
    """The Flask app served over real HTTP from a thread of the test process."""

    def __init__(self, flask_app):
        self.server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()


def wait_for_port(port, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the builder exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the builder did not listen on {port} within {seconds} s")


def start_builder(settings, controller_url, workdir, port, extra_env=None):
    """`python -m sshd.server` with the test settings (and `extra_env`); returns the process. It runs in
    `workdir` with its folders given relative to it, as `make run` gives `var/...`, so hooks must not depend
    on their cwd."""
    env = dict(os.environ, PIER_SECRET_KEY=settings.secret_key, PIER_BUILDER_KEY=settings.builder_key,
               REDIS_URL=settings.redis_url, DATABASE_URL=settings.database_url,
               PIER_CONTROLLER_URL=controller_url, PIER_BUILDER_LISTEN=f"127.0.0.1:{port}",
               PIER_BUILDER_HOST_KEY="host_key", PIER_GIT_ROOT="git",
               PIER_STORAGE_PATH=os.path.relpath(settings.storage_path, workdir), PIER_DOMAIN=settings.domain,
               PIER_BUILD_TIMEOUT=str(settings.build_timeout), PIER_SYNC_TIMEOUT=str(settings.sync_timeout),
               PIER_PUSH_LOCK_TIMEOUT=str(settings.push_lock_timeout), PYTHONPATH=str(ROOT), **(extra_env or {}))
    log = open(workdir / "builder.log", "ab")
    process = subprocess.Popen([sys.executable, "-m", "sshd.server"], cwd=workdir, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    wait_for_port(port, process)
    return process


class Pusher:
    """A user's SSH key and git working copies pushing to the builder. `identities` are the keys ssh offers,
    in order; `log_level` is ssh's (ERROR hides the builder's banners, INFO shows them as a user sees them);
    `source` is the local address ssh connects from (any 127.x.y.z is a distinct client to the builder)."""

    def __init__(self, home, port, log_level="ERROR", source=None):
        self.home, self.port = Path(home), port
        self.log_level, self.source = log_level, source
        self.home.mkdir(parents=True, exist_ok=True)
        self.key = self.home / "id_ed25519"
        if not self.key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pier-test", "-f", str(self.key)],
                           check=True)
        self.identities = [self.key]

    @property
    def public_key(self):
        return (self.home / "id_ed25519.pub").read_text().strip()

    def fingerprint(self):
        listed = subprocess.run(["ssh-keygen", "-l", "-f", str(self.key)], check=True, capture_output=True, text=True)
        return listed.stdout.split()[1]

    def ssh_options(self):
        options = [option for key in self.identities for option in ("-i", str(key))]
        options += ["-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", f"LogLevel={self.log_level}", "-o", "BatchMode=yes"]
        return options + (["-o", f"BindAddress={self.source}"] if self.source else [])

    def env(self):
        ssh = " ".join(["ssh", *self.ssh_options()])  # paths from pytest's tmp_path: no spaces to quote
        return dict(os.environ, GIT_SSH_COMMAND=ssh, GIT_AUTHOR_NAME="Pier Test", GIT_AUTHOR_EMAIL="t@example.com",
                    GIT_COMMITTER_NAME="Pier Test", GIT_COMMITTER_EMAIL="t@example.com", HOME=str(self.home))

    def remote(self, app):
        return f"ssh://git@127.0.0.1:{self.port}/{app}.git"

    def repo(self, name, files):
        """A git working copy with `files` ({path: text}) committed on main."""
        path = self.home / name
        path.mkdir(parents=True, exist_ok=True)
        self.git(path, "init", "-q", "-b", "main")
        return self.commit(path, files)

    def commit(self, path, files, message="change"):
        for name, text in files.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_text(text)
        self.git(path, "add", "-A")
        self.git(path, "commit", "-q", "--allow-empty", "-m", message)
        return path

    def git(self, path, *args, check=True):
        return subprocess.run(["git", *args], cwd=path, env=self.env(), check=check, capture_output=True, text=True)

    def push(self, path, app, refspec="main", background=False):
        command = ["git", "push", self.remote(app), refspec]
        if background:
            # its own session, so that a test can kill git together with its ssh child (os.killpg)
            return subprocess.Popen(command, cwd=path, env=self.env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, start_new_session=True)
        done = subprocess.run(command, cwd=path, env=self.env(), capture_output=True, text=True, timeout=900)
        return done.returncode, done.stdout + done.stderr

    def ssh(self, command):
        done = subprocess.run(["ssh", *self.ssh_options(), "-p", str(self.port), "git@127.0.0.1", command],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def builder(app, worker, tmp_path_factory):
    """The platform with its builder: (ssh port, settings)."""
    client = build_images()
    workdir = tmp_path_factory.mktemp("builder")
    with settings_changed(app, scheduler="docker", deploy_timeout=60.0, drain_seconds=0.0, stop_grace_seconds=2,
                          storage_path=str(workdir / "storage"), build_timeout=600, sync_timeout=120.0):
        controller = LiveController(app)
        port = free_port()
        process = start_builder(app.config["PIER"], controller.url, workdir, port)
        yield port
        process.terminate()
        process.wait(timeout=10)
        controller.stop()
    with app.app_context():
        for app_uuid in db.session.execute(db.select(App.uuid)).scalars():
            remove_app_containers(client, str(app_uuid))
        db.session.remove()


@pytest.fixture
def pusher(app, builder, alice, tmp_path):
    """alice, with her SSH key added, pushing from tmp_path; the test's app containers go afterwards."""
    user = Pusher(tmp_path / "alice", builder)
    assert alice.post("/v2/keys", {"id": "laptop", "public": user.public_key}).status_code == 201
    yield user
    client = docker.from_env()
    with app.app_context():
        for app_uuid in db.session.execute(db.select(App.uuid)).scalars():
            remove_app_containers(client, str(app_uuid))
        db.session.remove()


def served(app, app_id, path="/"):
    """What the app's one routable container answers (web for Procfile apps, cmd for plain images)."""
    endpoints = Endpoints(app.config["PIER"].redis_url).read(app_id)
    [endpoint] = endpoints.get("web") or endpoints["cmd"]
    return get(endpoint, path)
