"""The in-memory scheduler, recording every call, failing on request and able to hold deploys.

Use it through `installed(app)` (or the `recording_scheduler` fixture) together with the session `worker`
fixture: it registers the class as "recording" in SCHEDULERS and points the app's settings at it.
"""
import contextlib
import dataclasses
import threading
from collections import namedtuple

import pytest

from workers.scheduler import SCHEDULERS, SchedulerError
from workers.scheduler.memory import WORLD, MemoryScheduler

NAME = "recording"
GATE_TIMEOUT = 60

Call = namedtuple("Call", "method app args")

CALLS = []
_lock = threading.Lock()
_state = {"fail": None, "gate": None}


def reset():
    with _lock:
        CALLS.clear()
        gate = _state["gate"]
        _state.update(fail=None, gate=None)
    if gate is not None:
        gate.set()
    WORLD.reset()


def calls(method=None):
    with _lock:
        return [call for call in CALLS if method is None or call.method == method]


def fail_next(message, method=None):
    """The next call (to `method`, or to any method when None) raises SchedulerError(message)."""
    with _lock:
        _state["fail"] = (method, message)


def block_deploys():
    """Deploys wait until the returned event is set; `reset` sets it too."""
    gate = threading.Event()
    with _lock:
        _state["gate"] = gate
    return gate


def run_output(spec, command):
    return f"{spec.app} v{spec.version} ran: {command}\n"


class RecordingScheduler(MemoryScheduler):
    def _record(self, method, app_id, **args):
        with _lock:
            CALLS.append(Call(method, app_id, args))
            fail = _state["fail"]
            if fail is not None and fail[0] in (None, method):
                _state["fail"] = None
                raise SchedulerError(fail[1])

    def deploy(self, spec, structure, retire=True):
        self._record("deploy", spec.app, spec=spec, structure=dict(structure))
        gate = _state["gate"]
        if gate is not None:
            gate.wait(GATE_TIMEOUT)
        return super().deploy(spec, structure, retire)

    def scale(self, spec, structure, retire=True):
        self._record("scale", spec.app, spec=spec, structure=dict(structure))
        return super().scale(spec, structure, retire)

    def restart(self, spec, structure, process_type=None, name=None):
        self._record("restart", spec.app, process_type=process_type, name=name)
        return super().restart(spec, structure, process_type, name)

    def run(self, spec, command):
        """`exit N` exits with N; anything else prints `<app> v<N> ran: <command>` and succeeds."""
        self._record("run", spec.app, spec=spec, command=command)
        words = command.split()
        exit_code = int(words[1]) if len(words) == 2 and words[0] == "exit" and words[1].isdigit() else 0
        return exit_code, run_output(spec, command)

    def destroy(self, app_id, app_uuid):
        self._record("destroy", app_uuid)
        super().destroy(app_id, app_uuid)


@contextlib.contextmanager
def settings_changed(app, **changes):
    """The app (and the worker, which shares it) runs with these settings until the block ends."""
    original = app.config["PIER"]
    app.config["PIER"] = dataclasses.replace(original, **changes)
    try:
        yield app.config["PIER"]
    finally:
        app.config["PIER"] = original


@contextlib.contextmanager
def installed(app, **changes):
    """Registers the recording scheduler and selects it in the app's settings."""
    reset()
    SCHEDULERS[NAME] = RecordingScheduler
    try:
        with settings_changed(app, scheduler=NAME, drain_seconds=0.0, **changes):
            yield
    finally:
        reset()
        SCHEDULERS.pop(NAME, None)


@pytest.fixture
def recording_scheduler(app, worker):
    with installed(app):
        yield
