"""workers/fleet.py, which `make run` starts the workers with (the Procfile's `workers` line): every line of a
Procfile forked from one parent that imported what they share, named, supervised, and gone with the parent."""
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.services import wait_until
from tests.support.workers import ROOT, worker_env
from workers.fleet import FleetError, read_procfile, say

LINES = "sleeper: python -m http.server 0 --bind 127.0.0.1\nteller: python -m platform\n"


def children(pid):
    """comm -> pid of the fleet's living children."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if entry.name.isdigit() and int(fields[1]) == pid and fields[0] != "Z":
            found[(entry / "comm").read_text().strip()] = int(entry.name)
    return found


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def fleet(app, tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(LINES)
    log = tmp_path / "fleet.log"
    process = subprocess.Popen([sys.executable, "-m", "workers.fleet", "-f", str(procfile)], cwd=ROOT,
                               env=worker_env(app.config["PIER"], "redis://127.0.0.1:1/0"), stdout=open(log, "wb"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log
    try:
        wait_until(lambda: "pier-sleeper" in children(process.pid) or process.poll() is not None,
                   "the fleet's sleeper", 60)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_each_line_is_a_named_child_sharing_what_the_parent_imported(fleet):
    sleeper = children(fleet.pid)["pier-sleeper"]
    assert Path(f"/proc/{fleet.pid}/comm").read_text().strip() == "pier-fleet"
    rollup = Path(f"/proc/{sleeper}/smaps_rollup").read_text()
    shared = int(re.search(r"^Shared_Dirty:\s+(\d+) kB", rollup, re.MULTILINE).group(1))
    assert shared > 20 * 1024, "the child shares little of the parent's imports: were they preloaded?"
    # output comes out line by line with the line's name in front
    wait_until(lambda: re.search(r"^\S+ teller \| Linux-", fleet.log.read_text(), re.MULTILINE), "teller's output", 30)


def test_a_child_that_exits_or_is_killed_is_forked_again_and_the_others_are_left_alone(fleet):
    wait_until(lambda: "teller exited with 0; starting it again in 1 s" in fleet.log.read_text(), "teller's exit", 30)
    before = children(fleet.pid)
    os.kill(before["pier-sleeper"], signal.SIGKILL)
    wait_until(lambda: children(fleet.pid).get("pier-sleeper", before["pier-sleeper"]) != before["pier-sleeper"],
               "the sleeper forked again", 30)
    assert f"sleeper exited with -{signal.SIGKILL.value}" in fleet.log.read_text()
    assert fleet.poll() is None


def test_sigterm_stops_every_child_then_the_fleet(fleet):
    pids = list(children(fleet.pid).values())
    fleet.send_signal(signal.SIGTERM)
    assert fleet.wait(timeout=30) == 0
    assert not [pid for pid in pids if alive(pid)]
    assert "sleeper stopped" in fleet.log.read_text()


def test_the_children_die_with_the_fleet(fleet):
    pids = list(children(fleet.pid).values())
    os.kill(fleet.pid, signal.SIGKILL)
    fleet.wait()
    wait_until(lambda: not [pid for pid in pids if alive(pid)], "the children gone with their parent", 30)


def test_a_line_the_fleet_cannot_run_in_process_is_refused(tmp_path, app):
    procfile = tmp_path / "Procfile"
    procfile.write_text("good: celery -A workers.main worker\nshell: env A=1 celery -A workers.main worker\n")
    with pytest.raises(FleetError, match=r"Procfile:2: expected 'name: celery …' or 'name: python -m MODULE …'"):
        read_procfile(procfile)
    answer = subprocess.run([sys.executable, "-m", "workers.fleet", "-f", str(procfile)], cwd=ROOT, capture_output=True,
                            text=True, env=worker_env(app.config["PIER"], "redis://127.0.0.1:1/0"), timeout=60)
    assert answer.returncode == 2 and "Procfile:2: expected" in answer.stderr


def test_the_workers_procfile_is_one_the_fleet_runs():
    lines = read_procfile(ROOT / "workers" / "Procfile")
    assert {"worker", "builds", "runs", "periodic", "flower", "watcher", "router", "builder"} == set(lines)
    assert (ROOT / "Procfile").read_text().count("python -m workers.fleet") == 1
    assert [line.partition(":")[0] for line in (ROOT / "Procfile").read_text().splitlines()] == ["web", "workers"]


def test_a_line_of_the_fleet_is_one_write(monkeypatch):
    """The fleet's children write to the same output: a line written in two parts could get one of theirs in
    between (which is how a test once read the pid of a process from before a restart)."""
    writes = []

    class Recorder:
        def write(self, text):
            writes.append(text)

        def flush(self):
            pass
    monkeypatch.setattr(sys, "stderr", Recorder())
    say("beat started with pid 7080")
    assert len(writes) == 1 and re.fullmatch(r"\d\d:\d\d:\d\d fleet \| beat started with pid 7080\n", writes[0])


def test_the_warm_up_before_forking_starts_nothing_and_reaches_none_of_pier_s_handlers(app):
    """warm_up builds a Celery worker and a beat scheduler in the fleet's parent: it must leave nothing behind
    that a fork would copy (a thread, a socket, a file) and must not start Pier's metrics endpoint."""
    from celery.signals import worker_init

    from workers.main import celery
    from workers.warm_up import warm_up

    def fds():
        return {fd for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")}
    threads, opened, senders = threading.enumerate(), fds(), []

    def record(sender=None, **_):
        senders.append(sender)
    worker_init.connect(record, weak=False)
    try:
        warm_up()
    finally:
        worker_init.disconnect(record)
    assert threading.enumerate() == threads and fds() == opened
    assert len(senders) == 1 and senders[0].app is not celery and senders[0].app.conf.broker_url == "memory://"


def test_the_warm_ups_the_fleet_names_are_lines_of_the_workers_procfile():
    import importlib

    from workers.fleet import WARM_UPS
    modules = {argv[2] for argv in read_procfile(ROOT / "workers" / "Procfile").values() if argv[0] == "python"}
    assert WARM_UPS and set(WARM_UPS) <= modules
    assert all(callable(importlib.import_module(module).warm_up) for module in WARM_UPS.values())


def test_what_the_fleet_s_parent_loads_makes_no_metric_its_children_would_all_serve(app):
    """The watcher, the builder and flower serve prometheus_client's default registry: a metric the parent
    made (the router's, when the parent imported router.sync) would show up in each of them."""
    code = ("from workers.fleet import preload; preload(); from prometheus_client import REGISTRY; "
            "print(sorted(name for name in REGISTRY._names_to_collectors if name.startswith('pier')))")
    answer = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=worker_env(app.config["PIER"], "redis://127.0.0.1:1/0"))
    assert answer.returncode == 0, answer.stderr[-2000:]
    assert answer.stdout.strip().splitlines()[-1] == "[]"
