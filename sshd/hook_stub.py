"""Pier's pre-receive hook as git runs it (`python -I -S`, the standard library only, so it starts at once).

It hands its stdin, stdout and stderr, environment and folder to the builder's hook server (sshd/hooks.py),
which runs sshd.receive for it in an already-imported process, and exits with that hook's exit code. SIGTERM,
SIGINT and SIGHUP are passed on to it. Where no server answers, it runs sshd.receive itself.
"""
import json
import os
import signal
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIABLE = "PIER_HOOK_SOCKET"  # as sshd.hooks.VARIABLE


def run_here():
    """sshd.receive in this process's place, as the hook ran before the server existed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    os.execve(sys.executable, [sys.executable, "-u", "-m", "sshd.receive"], env)


def main():
    path = os.environ.get(VARIABLE)
    if not path:
        run_here()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.connect(path)
    except OSError:
        run_here()
    request = json.dumps({"env": dict(os.environ), "cwd": os.getcwd()}).encode()
    socket.send_fds(server, [request], [0, 1, 2])
    answers = server.makefile("r")
    started = answers.readline().split()
    if len(started) != 2 or started[0] != "pid":
        print("-----> Pier's hook server could not start this push; push again", file=sys.stderr, flush=True)
        return 1
    child = int(started[1])

    def forward(signum, frame):
        try:
            os.kill(child, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    ended = answers.readline().split()
    if len(ended) != 2 or ended[0] != "exit":
        print("-----> Pier's hook process went away before the push ended; push again", file=sys.stderr, flush=True)
        return 1
    return int(ended[1])


if __name__ == "__main__":
    sys.exit(main())
