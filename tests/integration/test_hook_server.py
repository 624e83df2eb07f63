"""The builder's hook server and the stub git runs as the pre-receive hook (real processes, a real socket)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sshd.hooks import VARIABLE, HookServer
from tests.support.waiting import wait_for

STUB = Path(__file__).resolve().parents[2] / "sshd" / "hook_stub.py"
REFUSED_REF = "0" * 40 + " " + "1" * 40 + " refs/heads/dev\n"


@pytest.fixture
def server():
    made = HookServer(module="tests.support.hook_probe")
    made.check()
    assert wait_for(lambda: os.path.exists(made.path), 30), "the hook server never listened"
    yield made
    made.stop()


def stub(socket_path, cwd, extra=None, **options):
    env = dict(os.environ, **(extra or {}))
    env[VARIABLE] = socket_path
    return subprocess.Popen([sys.executable, "-I", "-S", str(STUB)], cwd=cwd, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)


def test_a_hook_runs_in_the_server_with_the_stubs_input_output_folder_and_environment(server, tmp_path):
    process = stub(server.path, tmp_path, {"PROBE_VALUE": "from the stub", "PROBE_EXIT": "7"})
    out, err = process.communicate("old new refs/heads/main\n", timeout=30)
    assert process.returncode == 7, (out, err)
    assert out.splitlines() == ["stdin old new refs/heads/main", f"cwd {tmp_path}", "env from the stub"]
    assert err.strip() == "to stderr"
    assert server.process.poll() is None, "the server ended with the hook"


def waiting_hook(server, tmp_path):
    """A hook that got its input and now waits for SIGTERM; returns (the stub, the marker it writes then)."""
    marker = tmp_path / "marker"
    process = stub(server.path, tmp_path, {"PROBE_WAIT": str(marker)})
    process.stdin.write("refs\n")
    process.stdin.close()
    assert process.stdout.readline() == "stdin refs\n"
    assert wait_for(lambda: process.stdout.readline() == "waiting\n", 30)
    return process, marker


def test_sigterm_to_the_stub_stops_its_hook(server, tmp_path):
    process, marker = waiting_hook(server, tmp_path)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 5
    assert marker.read_text() == "stopped"


def test_a_killed_stub_stops_its_hook(server, tmp_path):
    process, marker = waiting_hook(server, tmp_path)
    process.kill()
    assert wait_for(marker.exists, 30), "the hook went on after its stub was killed"


def test_a_server_that_died_is_started_again(server, tmp_path):
    first = server.process
    first.kill()
    first.wait(10)
    server.check()
    assert server.process is not first
    assert wait_for(lambda: os.path.exists(server.path), 30)
    process = stub(server.path, tmp_path, {"PROBE_VALUE": "again"})
    out, _ = process.communicate("", timeout=30)
    assert process.returncode == 0 and "env again" in out


@pytest.mark.parametrize("served", [True, False], ids=["through the server", "without a server"])
def test_the_real_hook_refuses_a_branch_with_or_without_the_server(tmp_path, served):
    real = HookServer()
    try:
        if served:
            real.check()
            assert wait_for(lambda: os.path.exists(real.path), 30)
        started = time.monotonic()
        process = stub(real.path, tmp_path, {"PIER_PUSH_USER": "alice", "PIER_PUSH_APP": "snake"})
        out, err = process.communicate(REFUSED_REF, timeout=60)
        assert process.returncode == 1, (out, err)
        assert "Pier deploys pushes to main or master only; refs/heads/dev was not accepted" in out
        print(f"hook {'through the server' if served else 'alone'}: {time.monotonic() - started:.3f} s")
    finally:
        real.stop()


def test_a_server_forked_from_its_builder_runs_hooks_and_stops(tmp_path):
    forked = HookServer(module="tests.support.hook_probe")
    script = ("import sys, time\n"
              "from sshd.hooks import HookServer\n"
              "server = HookServer(module='tests.support.hook_probe')\n"
              "server.folder, server.path = sys.argv[1], sys.argv[1] + '/hooks.sock'\n"
              "server.check(fork=True)\n"
              "print('child', server.process.pid, flush=True)\n"
              "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script, forked.folder], stdout=subprocess.PIPE, text=True)
    try:
        # the child shares the parent's stdout and says when it is ready: find the parent's line among them
        child = next(int(line.split()[1]) for line in parent.stdout if line.startswith("child "))
        assert wait_for(lambda: os.path.exists(forked.path), 30)
        assert Path(f"/proc/{child}/comm").read_text().strip() == "pier-hooks"
        process = stub(forked.path, tmp_path, {"PROBE_VALUE": "forked"})
        out, _ = process.communicate("", timeout=30)
        assert process.returncode == 0 and "env forked" in out
    finally:
        parent.kill()
        parent.wait()
    assert wait_for(lambda: not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text()
                    .rsplit(")", 1)[1].split()[0], 30), "the forked server outlived its builder"
    forked.stop()


def test_a_hook_outlives_its_server_and_still_reports_its_exit_code(server, tmp_path):
    process, marker = waiting_hook(server, tmp_path)
    server.process.kill()
    server.process.wait(10)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 5, "the hook died with its server"
    assert marker.read_text() == "stopped"
