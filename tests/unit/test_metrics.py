"""The pure parts of the metrics: nginx's metrics log read line by line and rotated without losing a line,
status classes, the builder's push outcomes, ports and multiprocess folders."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from twisted.internet import error
from twisted.python.failure import Failure

from core.metrics import multiprocess_folder, port_for, status_class
from core.settings import Settings, SettingsError
from router.metrics import LOG_NAME, MetricsLog, parse
from sshd import outcome as push_outcome
from sshd.metrics import outcome_of

TOP = Path(__file__).resolve().parents[2]
SECRETS = {"PIER_SECRET_KEY": "s" * 40, "PIER_BUILDER_KEY": "b" * 40}


@pytest.mark.parametrize("line, parsed", [
    ("shop|200|0.004", ("shop", "2xx", 0.004)),
    ("shop|502|0.001, 0.010", ("shop", "5xx", pytest.approx(0.011))),  # two upstreams tried
    ("shop|504|60.001 : 0.002", ("shop", "5xx", pytest.approx(60.003))),  # an internal redirect
    ("|404|-", ("", "4xx", None)),  # no app has the host: nginx answered by itself
    ("shop|301|-", ("shop", "3xx", None)),
    ("shop|499|-", ("shop", "4xx", None)),
])
def test_a_metrics_log_line_gives_the_app_its_status_class_and_upstream_time(line, parsed):
    assert parse(line) == parsed


@pytest.mark.parametrize("line", ["", "shop|20", "garbage", "shop|abc|0.1", "a|b|c|d"])
def test_a_partial_or_foreign_line_is_skipped(line):
    assert parse(line) is None


def test_status_classes_are_five_whatever_the_apps_answer():
    assert [status_class(s) for s in (101, 200, 204, 302, 404, 503, "200")] == \
        ["1xx", "2xx", "2xx", "3xx", "4xx", "5xx", "2xx"]
    assert status_class(999) == status_class("20") == "other"


class FakeNginx:
    """Writes lines to the log as nginx does (O_APPEND), and reopens it by path when asked."""

    def __init__(self, runtime):
        self.path = os.path.join(runtime, LOG_NAME)
        self.handle = open(self.path, "a")

    def write(self, *lines):
        self.handle.write("".join(f"{line}\n" for line in lines))
        self.handle.flush()

    def reopen(self):
        self.handle.close()
        self.handle = open(self.path, "a")


def test_every_line_is_counted_once_across_a_rotation_and_the_log_stays_small(tmp_path):
    nginx = FakeNginx(tmp_path)
    nginx.write("before|200|0.1")  # written before this router started: counted by the one before
    seen, now = [], [0.0]
    follower = MetricsLog(str(tmp_path), reopen=lambda: None, record=seen.append, rotate_bytes=100,
                          clock=lambda: now[0])
    follower.start()
    nginx.handle.write("a|200|0.1\nb|2")  # a line nginx has only half written yet
    nginx.handle.flush()
    follower.poll()
    assert seen == ["a|200|0.1"]
    nginx.write("00|0.2", *[f"c{n}|200|0.1" for n in range(10)])  # past rotate_bytes: renamed, nginx told
    follower.poll()
    assert seen[:2] == ["a|200|0.1", "b|200|0.2"] and len(seen) == 12
    assert not os.path.exists(tmp_path / LOG_NAME)
    nginx.write("late|200|0.1")  # a worker that has not reopened yet still writes to the old file
    follower.poll()
    nginx.reopen()
    nginx.write("new|200|0.1")
    follower.poll()
    nginx.write("later|200|0.1")
    now[0] += 60  # the old file is read once more, then let go
    follower.poll()
    assert seen[12:] == ["late|200|0.1", "new|200|0.1", "later|200|0.1"]
    assert follower.old is None and os.path.getsize(tmp_path / LOG_NAME) < 100


def test_a_log_that_appears_after_the_router_started_is_read_from_its_start(tmp_path):
    seen = []
    follower = MetricsLog(str(tmp_path), reopen=lambda: None, record=seen.append)
    follower.start()
    follower.poll()
    FakeNginx(tmp_path).write("first|200|0.1")
    follower.poll()
    assert seen == ["first|200|0.1"]


@pytest.mark.parametrize("reason, hook, outcome", [
    (error.ProcessDone(0), "succeeded", "succeeded"),
    (error.ProcessDone(0), "failed", "failed"),  # receive-pack exits 0 when its hook declines the push
    (error.ProcessDone(0), None, "unchanged"),  # nothing new was pushed: no hook ran
    (error.ProcessTerminated(exitCode=128), None, "failed"),
    (error.ProcessTerminated(exitCode=None, signal=15), "failed", "cancelled"),
])
def test_a_push_outcome_follows_its_hook_and_how_git_receive_pack_ended(reason, hook, outcome):
    assert outcome_of(Failure(reason), hook) == outcome


def test_the_hook_writes_failed_until_it_succeeds_and_the_session_takes_it_once(tmp_path):
    path = tmp_path / "push.outcome"
    path.write_text("")
    assert push_outcome.take(str(path)) is None and not path.exists()  # the hook never ran
    push_outcome.write(str(path), succeeded=False)
    assert push_outcome.take(str(path)) == "failed" and not path.exists()
    push_outcome.write(str(path), succeeded=False)
    push_outcome.write(str(path), succeeded=True)
    assert push_outcome.take(str(path)) == "succeeded"
    assert push_outcome.take(str(path)) is None
    push_outcome.write("", succeeded=True)  # a clone: no file was asked for


def test_each_process_has_a_port_of_its_own_and_zero_turns_them_off():
    settings = Settings.from_env(dict(SECRETS, PIER_METRICS_PORT_BASE="9500"))
    ports = [port_for(settings, p) for p in ("builds", "deploys", "runs", "periodic", "watcher", "router", "builder")]
    assert ports == list(range(9500, 9507))
    assert port_for(Settings.from_env(dict(SECRETS, PIER_METRICS_PORT_BASE="0")), "router") is None


@pytest.mark.parametrize("variables", [{"PIER_METRICS_TOKEN": "short"}, {"PIER_METRICS_PORT_BASE": "65533"},
                                       {"PIER_METRICS_PORT_BASE": "-1"}])
def test_unusable_metrics_settings_stop_the_process(variables):
    with pytest.raises(SettingsError, match="PIER_METRICS"):
        Settings.from_env(dict(SECRETS, **variables))


def test_a_multiprocess_folder_starts_empty_and_those_of_dead_processes_go(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"web-{dead.stdout.strip()}"
    stale.mkdir()
    (stale / "counter_1.db").write_text("old")
    running = tmp_path / f"deploys-{os.getppid()}"  # another process's, still running: kept
    running.mkdir()
    mine = tmp_path / f"web-{os.getpid()}"
    mine.mkdir()
    (mine / "counter_2.db").write_text("a previous life of this pid")
    folder = multiprocess_folder(str(tmp_path), "web")
    assert folder == str(mine) and os.listdir(folder) == []
    assert not stale.exists() and running.exists()


def test_importing_core_metrics_leaves_prometheus_client_unimported():
    # gunicorn.conf.py prepares its folder through core.metrics before the workers import prometheus_client,
    # which picks in-memory or multiprocess values once, when imported
    code = "import sys, core.metrics; assert 'prometheus_client' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=TOP, env=dict(os.environ, PYTHONPATH=str(TOP)))
