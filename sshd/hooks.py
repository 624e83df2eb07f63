"""The hook server: runs pre-receive hooks in processes forked from one that has already imported them.

A push's hook (sshd.receive) took a third of a second to start: Python's start and the imports of Redis,
requests and Pier's core. The builder starts this server once (HookServer); git runs sshd/hook_stub.py, which
hands its stdin, stdout and stderr to the server over a Unix socket in a folder only the builder's user can
enter. The server forks; the child takes those as its own, with the hook's environment and folder, runs
sshd.receive and sends back its exit code. The stub forwards SIGTERM (the push's client went away) to the
child, and a child whose stub died is told the same. Without the server the stub runs sshd.receive itself.

    python -m sshd.hooks SOCKET [MODULE]    (MODULE's main() is the hook; sshd.receive unless named)
"""
import ctypes
import gc
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

VARIABLE = "PIER_HOOK_SOCKET"
PR_SET_PDEATHSIG = 1
MAX_REQUEST = 1 << 20  # the hook's environment, as JSON


def serve(path, module="sshd.receive"):
    Path("/proc/self/comm").write_text("pier-hooks")  # in ps and top; the pushes' children are pier-hook
    hook = importlib.import_module(module)  # what every push would import: imported once, here
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".new")
    listener.listen(64)
    os.replace(path + ".new", path)  # the path appears once connections are taken
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"hook server ready on {path}", flush=True)
    while True:
        connection, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            run_child(connection, hook)
        connection.close()


def run_child(connection, hook):
    """In the forked child: becomes the hook git started, runs it, reports its exit code; never returns."""
    code = 1
    try:
        Path("/proc/self/comm").write_text("pier-hook")
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the hook waits for its own children (git archive)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        message, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST, 3)
        request = json.loads(message)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        # line-buffered, as the hook's lines go to the push's terminal as they come
        sys.stdin, sys.stdout, sys.stderr = (open(0, "r", closefd=False), open(1, "w", 1, closefd=False),
                                             open(2, "w", 1, closefd=False))
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        connection.sendall(f"pid {os.getpid()}\n".encode())
        finished = threading.Event()
        threading.Thread(target=_stop_when_gone, args=(connection, finished), daemon=True).start()
        try:
            code = hook.main()
        except SystemExit as exc:  # the hook's own SIGTERM handler exits this way
            code = exc.code if isinstance(exc.code, int) else 1
        finished.set()
    except BaseException:  # noqa: BLE001 - whatever it was, the stub must hear an exit code
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass
        try:
            connection.sendall(f"exit {code or 0}\n".encode())
        except OSError:
            pass
        os._exit(code or 0)


def _stop_when_gone(connection, finished):
    """The stub closed the connection before the hook ended (it was killed): the hook stops as on SIGTERM."""
    try:
        connection.recv(1)
    except OSError:
        pass
    if not finished.is_set():
        os.kill(os.getpid(), signal.SIGTERM)


class HookServer:
    """The builder's hook server process, started again when it exits (see `check`)."""

    def __init__(self, module="sshd.receive"):
        self.folder = tempfile.mkdtemp(prefix="pier-hooks-")  # mode 0700: the builder's user only
        self.path = os.path.join(self.folder, "hooks.sock")
        self.module = module
        self.process = None

    def check(self, fork=False):
        """Starts the server if it is not running; returns its process. With fork=True it is forked from this
        process, sharing the pages of what it already imported (call it before any thread starts); otherwise
        it is a new Python process."""
        if self.process is None or self.process.poll() is not None:
            self._remove_socket()
            self.process = _Forked(self.path, self.module) if fork else subprocess.Popen(
                [sys.executable, "-u", "-m", "sshd.hooks", self.path, self.module], preexec_fn=_die_with_parent,
                env=dict(os.environ, PYTHONPATH=_python_path()))
        return self.process

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self._remove_socket()
        os.rmdir(self.folder)

    def _remove_socket(self):
        for stale in (self.path, self.path + ".new"):  # a server binds the second and renames it (serve)
            if os.path.exists(stale):
                os.unlink(stale)


class _Forked:
    """The server forked from the calling process, with what subprocess.Popen offers of it here."""

    def __init__(self, path, module):
        importlib.import_module(module)  # imported here, its pages shared by both processes
        gc.freeze()  # and kept out of the collector, whose passes would write to them
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid, self.returncode = os.fork(), None
        if self.pid == 0:
            code = 1
            try:
                _die_with_parent()
                serve(path, module)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - a child of the builder must never return into it
                traceback.print_exc()
            finally:
                os._exit(code)

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def terminate(self):
        if self.poll() is None:
            os.kill(self.pid, signal.SIGTERM)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"hook server {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode


def _python_path():
    root = str(Path(__file__).resolve().parents[1])
    return root + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")


def _die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


if __name__ == "__main__":
    serve(sys.argv[1], *sys.argv[2:3])
