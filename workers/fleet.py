"""Pier's processes but the controller (workers/Procfile: the Celery workers and beat, flower, the log watcher, the
router and the builder), forked from one parent that has imported what they all use.

    python -m workers.fleet [-f workers/Procfile] [NAME ...]

Each line of workers/Procfile is a process of its own, as if started alone, but it is forked from this parent
after the parent imported Celery, the Flask app, SQLAlchemy, the task modules, the Docker SDK and most of Twisted,
configured the models' mappers, made the database's first connection, ran the router's reads once on it
(core/pool.py's before_fork, WARM_UPS) and a Celery worker's and beat's start-up (workers/warm_up.py): the children
share those pages instead of each making its own copy (bench/footprint.py shows the difference). A line is a
Celery command (`celery ARGUMENTS`) or a module (`python -m MODULE ARGUMENTS`); nothing goes through a shell.

Each child is named after its line (`pier-worker`, `pier-periodic`… in ps, top and /proc/PID/comm), prefixes its
output with that name, and dies with the parent (the router leaves its nginx serving, for the next router). A
child that exits, for whatever reason, is forked again after a pause that doubles from 1 s to 30 s, as
scripts/supervise does for the Procfile's lines. SIGTERM or SIGINT is passed on to every child; those still
running after 10 s are killed.

The chart runs each of these lines in a pod of its own (image/entrypoint reads this file too): pods share
no memory, so there is nothing to gain from a parent there.
"""
import argparse
import ctypes
import gc
import importlib
import os
import runpy
import shlex
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

FIRST_PAUSE, LONGEST_PAUSE, HEALTHY_AFTER, STOP_GRACE = 1.0, 30.0, 60.0, 10.0
PROCFILE = Path(__file__).resolve().parent / "Procfile"
# What the children import anyway, imported once here (none of it connects or starts a thread on import).
# workers.flower is left out: it puts flower's login into its process's environment. Of Twisted (the builder's),
# what does not import twisted.internet.reactor, whose import installs the reactor: an epoll and a pipe that
# every child would share (preload refuses to fork then).
PRELOAD = ("workers.main", "celery.bin.celery", "celery.apps.worker", "celery.worker.components",
           "celery.concurrency.thread", "celery.events.state", "kombu.transport.redis", "flower.command",
           "workers.light", "docker", "cryptography.x509", "bcrypt",
           "twisted.conch.ssh.transport", "twisted.conch.ssh.session", "twisted.conch.ssh.connection",
           "twisted.conch.ssh.keys", "twisted.cred.portal", "twisted.internet.endpoints", "twisted.internet.task",
           "twisted.internet.threads", "twisted.internet.protocol", "twisted.python.log")
# A line's module -> the module whose warm_up(app) the parent runs before forking (core/pool.py's before_fork),
# when it runs that line: named here, imported only then.
WARM_UPS = {"router.sync": "router.warm_up"}
HANDLED = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
PR_SET_PDEATHSIG = 1


class FleetError(Exception):
    pass


def read_procfile(path):
    """The file's lines as name -> argv, in order; a line neither `celery …` nor `python -m …` is refused."""
    lines = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, command = (part.strip() for part in line.partition(":"))
        argv = shlex.split(command)
        if not sep or not name or not (argv[:1] == ["celery"] or argv[:2] == ["python", "-m"] and len(argv) > 2):
            raise FleetError(f"{path}:{number}: expected 'name: celery …' or 'name: python -m MODULE …'")
        lines[name] = argv
    return lines


def say(text):
    # One write: stderr is unbuffered, and print() would write the text and its newline apart, letting a child's
    # line fall between them in the output the fleet shares with its children.
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} fleet | {text}\n")
    sys.stderr.flush()


def preload(lines=None):
    """Imports and warms up what the children share; `lines` are those that will run (all by default)."""
    for module in PRELOAD:
        importlib.import_module(module)
    modules = {argv[2] for argv in (lines or read_procfile(PROCFILE)).values() if argv[:2] == ["python", "-m"]}
    warm_ups = [importlib.import_module(WARM_UPS[module]).warm_up for module in modules if module in WARM_UPS]
    from core.app import process_app
    from core.pool import before_fork
    from workers.main import celery
    from workers.warm_up import warm_up
    celery.loader.import_default_modules()  # the task modules
    warm_up()  # Celery's start-up run once here, so the Celery children write less into the pages they share
    problem = before_fork(process_app(), warm_ups)  # the app the Celery workers and the router use
    if problem:
        say(f"{problem}: the children do that themselves")
    gc.freeze()  # the collector never writes to what was imported, so those pages stay shared
    gc.enable()
    if threading.active_count() != 1:
        raise FleetError("a thread started while importing: forking now would be unsafe")
    if "twisted.internet.reactor" in sys.modules:
        raise FleetError("Twisted's reactor was installed while importing: the children would share its epoll")


def run_line(argv):
    """Runs a line in this process, as its command would; returns its exit code."""
    if argv[0] == "celery":
        from celery.bin.celery import main
        sys.argv = argv
        return main()
    sys.argv = argv[2:]
    runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
    return 0


def prefix_output(name):
    """The child's stdout and stderr go through a pipe whose lines a thread writes out with `name | ` in front.
    Returns what closes the pipe and waits for the last lines to be written."""
    out = os.dup(1)
    reader, writer = os.pipe()
    os.dup2(writer, 1)
    os.dup2(writer, 2)
    os.close(writer)

    def copy():
        with os.fdopen(reader, "rb") as lines, os.fdopen(out, "wb", buffering=0) as target:
            for line in lines:
                target.write(f"{time.strftime('%H:%M:%S')} {name} | ".encode() + line)

    thread = threading.Thread(target=copy, name="output", daemon=True)
    thread.start()

    def close():
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os.close(1)
        os.close(2)
        thread.join(timeout=5)
    return close


def child(name, argv, parent):
    """In the forked process: becomes the line's process and never returns."""
    code = 1
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)
    Path("/proc/self/comm").write_text(f"pier-{name}"[:15])
    close = prefix_output(name)
    try:
        result = run_line(argv)
        code = result if isinstance(result, int) else 0
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            code = exit_.code or 0
        else:  # a message, as sys.exit("…") gives
            print(exit_.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        close()
        os._exit(code)


class Fleet:
    def __init__(self, lines):
        self.lines = lines
        self.pids = {}  # pid -> name
        self.started, self.pause, self.due = {}, {}, {}  # by name
        self.stopping = None  # the time SIGTERM was passed on
        self.killed = False

    def fork(self, name):
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            child(name, self.lines[name], parent)
        self.pids[pid] = name
        self.started[name] = time.monotonic()
        say(f"{name} started with pid {pid}")

    def reap(self):
        while self.pids:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            name = self.pids.pop(pid, None)
            if name is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if self.stopping is not None:
                say(f"{name} stopped ({code})")
                continue
            if time.monotonic() - self.started[name] > HEALTHY_AFTER:
                self.pause[name] = FIRST_PAUSE
            pause = self.pause.get(name, FIRST_PAUSE)
            say(f"{name} exited with {code}; starting it again in {pause:.0f} s")
            self.due[name] = time.monotonic() + pause
            self.pause[name] = min(pause * 2, LONGEST_PAUSE)

    def stop(self):
        if self.stopping is None:
            self.stopping = time.monotonic()
            self.due.clear()
        for pid in self.pids:
            os.kill(pid, signal.SIGTERM)

    def run(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        Path("/proc/self/comm").write_text("pier-fleet")
        for name in self.lines:
            self.fork(name)
        while self.pids or self.due:
            now = time.monotonic()
            for name in [name for name, when in self.due.items() if when <= now]:
                del self.due[name]
                self.fork(name)
            waits = [when - now for when in self.due.values()]
            if self.stopping is not None and not self.killed:
                waits.append(self.stopping + STOP_GRACE - now)
            received = (signal.sigtimedwait(HANDLED, max(0.0, min(waits))) if waits
                        else signal.sigwaitinfo(HANDLED))
            if received is not None and received.si_signo in (signal.SIGTERM, signal.SIGINT):
                self.stop()
            self.reap()
            if self.stopping is not None and time.monotonic() >= self.stopping + STOP_GRACE and not self.killed:
                self.killed = True
                for pid, name in self.pids.items():
                    say(f"{name} did not stop within {STOP_GRACE:.0f} s: killed")
                    os.kill(pid, signal.SIGKILL)
        return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--procfile", default=PROCFILE)
    parser.add_argument("names", nargs="*", help="the lines to run (all by default)")
    options = parser.parse_args(argv)
    gc.disable()  # until preload() is done: no freed holes in the pages the children will share
    try:
        lines = read_procfile(options.procfile)
        unknown = [name for name in options.names if name not in lines]
        if unknown:
            raise FleetError(f"{options.procfile} has no {', '.join(unknown)} (it has {', '.join(lines)})")
        lines = {name: lines[name] for name in options.names or lines}
        preload(lines)
    except FleetError as error:
        say(str(error))
        return 2
    return Fleet(lines).run()


if __name__ == "__main__":
    sys.exit(main())
