"""The installed `pier` console script in real subprocesses, and the help every command has."""
import json
import os
import signal
import subprocess
import time

import pytest

from cli.main import cli
from tests.cli.conftest import PASSWORD, PIER, git, run_pier


def test_the_console_script_is_installed():
    assert os.access(PIER, os.X_OK)
    result = run_pier("version", home="/nonexistent")
    assert (result.returncode, result.stdout) == (0, "pier 2.3.0 (Deis Workflow API 2.3)\n")


def test_a_session_through_the_console_script(controller, home, recording_scheduler):
    def pier(*args, code=0):
        result = run_pier(*args, home=home)
        assert result.returncode == code, result.stdout + result.stderr
        return result

    assert pier("whoami", code=1).stderr == "Error: not logged in; run pier login <url>\n"
    pier("register", controller, "--username", "ada", "--password", PASSWORD, "--email", "ada@example.com")
    git("init", "-q", ".")
    assert "Git remote pier added" in pier("create", "hello").stdout
    pier("config:set", "GREETING=hi there")
    pier("pull", "example/web:v1")
    assert pier("config").stdout.splitlines()[1].split() == ["DEIS_APP", "hello"]
    result = pier("run", "exit", "7", code=7)
    assert result.stdout == "hello v3 ran: exit 7\n"
    assert "Scaling processes... done in " in pier("scale", "cmd=2").stderr
    assert pier("help", "scale").stdout.startswith("Usage: pier ps:scale [OPTIONS] TYPE=COUNT...")
    token = json.loads((home / ".pier" / "client.json").read_text())["token"]
    assert all(token not in out for out in (result.stdout, result.stderr, pier("whoami", "--all").stdout))


def test_unreachable_controller_and_no_app_through_the_console_script(home):
    (home / ".pier").mkdir(mode=0o700)
    (home / ".pier" / "client.json").write_text('{"controller": "http://127.0.0.1:9", "username": "ada", '
                                                '"token": "abc"}')
    result = run_pier("apps", home=home)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "Error: cannot reach the controller at http://127.0.0.1:9: Connection refused\n"
    result = run_pier("config", home=home)
    assert result.returncode == 1
    assert result.stderr == 'Error: no app given; use -a <app> or run inside a git repository with a "pier" remote\n'


def test_logs_follow_streams_new_lines(controller, home):
    run_pier("register", controller, "--username", "ada", "--password", PASSWORD, "--email", "a@example.com",
             home=home, check=True)
    run_pier("create", "hello", home=home, check=True)
    follower = subprocess.Popen([PIER, "logs", "-f", "-a", "hello"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=dict(os.environ, HOME=str(home)))
    try:
        first = follower.stdout.readline()
        assert first.endswith(" pier[controller]: ada created hello\n")
        run_pier("config:set", "FOLLOWED=1", "-a", "hello", home=home, check=True)
        deadline = time.monotonic() + 20
        line = ""
        while "added FOLLOWED" not in line and time.monotonic() < deadline:
            line = follower.stdout.readline()
        assert "ada added FOLLOWED (v2)" in line
        assert follower.poll() is None  # still following
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(10)
    assert follower.returncode == 0
    assert "Traceback" not in follower.stderr.read()


def test_help_for_a_topic_command_both_ways(pier):
    by_help = pier("help", "config:set").stdout
    assert by_help == pier("config:set", "--help").stdout
    assert by_help.startswith("Usage: pier config:set [OPTIONS] KEY=value...\n")
    assert "-a, --app APP" in by_help
    topic = pier("help", "config").stdout
    assert topic.startswith("config: ") and "config:push" in topic and "config:pull" in topic


def test_help_lists_every_command(pier):
    listing = pier("help").stdout
    assert listing == pier().stdout == pier("--help").stdout
    for name in cli.commands:
        assert f"  {name} " in listing, name
    for name in ("apps:create", "auth:register", "builds:create", "certs:attach", "config:push", "domains:remove",
                 "git:remote", "healthchecks:set", "keys:add", "labels:unset", "limits:set", "maintenance:on",
                 "perms:create", "ps:restart", "registry:set", "releases:rollback", "routing:disable", "tags:set",
                 "tls:enable", "users:list", "whitelist:add", "autoscale:set", "version"):
        assert name in cli.commands, name
    assert "No such command 'nope'" in pier("nope", code=2).stderr


@pytest.mark.parametrize("short, full", [("create", "apps:create"), ("scale", "ps:scale"), ("pull", "builds:create"),
                                         ("apps", "apps:list"), ("tls", "tls:info"), ("login", "auth:login")])
def test_shortcuts_resolve_to_their_command(pier, short, full):
    assert pier(short, "--help").stdout == pier(full, "--help").stdout
    assert pier(short, "--help").stdout.startswith(f"Usage: pier {full} ")
