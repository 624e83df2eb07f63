"""scripts/supervise, which `make run` starts the Procfile with: a process that dies is started again."""
import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

SUPERVISE = Path(__file__).resolve().parents[2] / "scripts" / "supervise"


def wait_until(check, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[1].split()[0] != "Z"


@contextlib.contextmanager
def supervising(tmp_path, procfile_text, *names):
    """scripts/supervise running a Procfile of `procfile_text` (only `names`, if given); yields its log's path,
    and stops it with SIGTERM at the end."""
    procfile = tmp_path / "Procfile"
    procfile.write_text(procfile_text)
    log = tmp_path / "out.log"
    with open(log, "w") as out:
        supervisor = subprocess.Popen([str(SUPERVISE), "-f", str(procfile), *names], stdout=out,
                                      stderr=subprocess.STDOUT)
    try:
        yield log
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=30)


def test_a_killed_process_is_started_again_and_sigterm_stops_everything(tmp_path):
    procfile = "talker: echo hello from talker; exec sleep 1000\nsleeper: exec sleep 1000\n"
    with supervising(tmp_path, procfile) as log:
        wait_until(lambda: re.search(r"talker\s+\| hello from talker", log.read_text()))
        first = int(wait_until(lambda: re.search(r"sleeper \| started with pid (\d+)", log.read_text())).group(1))
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: "sleeper | exited with -9; starting it again in 1 s" in log.read_text())
        pids = wait_until(lambda: re.findall(r"sleeper \| started with pid (\d+)", log.read_text())[1:])
        second = int(pids[0])
        assert second != first and alive(second)
        talker = int(re.search(r"talker\s+\| started with pid (\d+)", log.read_text()).group(1))
    assert not alive(second) and not alive(talker)


def test_only_the_named_processes_run(tmp_path):
    with supervising(tmp_path, "one: echo one; sleep 1000\ntwo: echo two; sleep 1000\n", "two") as log:
        wait_until(lambda: "two | two" in log.read_text())
    assert "one" not in log.read_text().replace("done", "")
    unknown = subprocess.run([str(SUPERVISE), "-f", str(tmp_path / "Procfile"), "three"], capture_output=True,
                             text=True)
    assert unknown.returncode != 0 and "not in" in unknown.stderr and "three" in unknown.stderr


def test_what_a_killed_process_left_behind_neither_holds_its_restart_nor_outlives_the_grace(tmp_path):
    # a parent whose child keeps the output open, as the fleet's Celery workers do while they finish their jobs
    with supervising(tmp_path, "parent: sleep 1000 & echo left $!; wait\n") as log:
        left = int(wait_until(lambda: re.search(r"parent \| left (\d+)", log.read_text())).group(1))
        first = int(re.search(r"parent \| started with pid (\d+)", log.read_text()).group(1))
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: len(re.findall(r"parent \| started with pid", log.read_text())) == 2)
        assert alive(left)  # restarted while the leftover still held the output
        wait_until(lambda: not alive(left), seconds=30)  # then killed, after its grace
