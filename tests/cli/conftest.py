"""CLI fixtures: the real controller (test Flask app, PostgreSQL, Redis) served over HTTP in a thread, and
`pier` run in-process with click's CliRunner, with HOME (hence ~/.pier) in a temporary folder."""
import json
import os
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from cli.main import cli
from tests.support.recording_scheduler import recording_scheduler  # noqa: F401  (a fixture)

PASSWORD = "a long passphrase"
PIER = os.path.join(os.path.dirname(sys.executable), "pier")


@pytest.fixture(scope="session")
def controller(app):
    """The URL of the real controller, served by werkzeug in a thread of this process."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty HOME, and a working folder that is the current directory (no git repository yet)."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("PIER_PROFILE", "PIER_BUILDER_PORT", "PIER_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(work)
    return home


def saved_token(home):
    path = home / ".pier" / "client.json"
    return json.loads(path.read_text())["token"] if path.exists() else None


class Pier:
    """Runs `pier ARGS` in-process and checks its exit code; no output may ever contain the saved token."""

    def __init__(self, controller, home):
        self.controller, self.home = controller, home
        self.runner = CliRunner()

    def __call__(self, *args, input=None, code=0, env=None):
        result = self.runner.invoke(cli, [str(a) for a in args], input=input, env=env, prog_name="pier",
                                    catch_exceptions=False)
        shown = f"pier {' '.join(map(str, args))} exited {result.exit_code}:\n{result.output}"
        assert result.exit_code == code, shown
        token = saved_token(self.home)
        assert token is None or token not in result.output, "the token was printed"
        return result

    def json(self, *args):
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def pier(controller, home):
    return Pier(controller, home)


@pytest.fixture
def logged_in(pier):
    """The first user registered through the CLI: the administrator, logged in."""
    pier("register", pier.controller, "--username", "ada", "--password", PASSWORD, "--email", "ada@example.com")
    return pier


@pytest.fixture
def hello(logged_in):
    logged_in("apps:create", "hello")
    return logged_in


@pytest.fixture
def deployed(hello, recording_scheduler):  # noqa: F811
    """hello with an image deployed (v2) by the recording scheduler: web=1, worker=0."""
    hello("pull", "example/web:v1", "-a", "hello", "-p", "web: bin/web", "-p", "worker: bin/worker")
    return hello


def git(*args, cwd=None):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def run_pier(*args, home, timeout=60, **kwargs):
    """The installed `pier` console script in a subprocess, HOME pointing at the test's."""
    env = dict(os.environ, HOME=str(home))
    env.pop("PIER_PROFILE", None)
    return subprocess.run([PIER, *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout,
                          **kwargs)
