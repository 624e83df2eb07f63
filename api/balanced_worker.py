"""gunicorn's threaded worker, where a new connection goes to the worker that holds the fewest.

Every worker waits on the same listening socket, and whichever wakes first takes the connection. A client that
keeps its connections alive (a proxy's upstream pool, a load generator) stays with the worker that took them,
and nothing evens them out later: 16 connections landed 14/2, 3/13 or 8/8 on two workers (bench/api.py). The
loaded worker then runs its share on one core while the other core idles, and the slowest requests wait behind
the loaded worker's queue (p99 ×2, throughput down by up to a third from one run to the next).

Here each worker writes how many connections it holds into a table the master shares with all of them (one
slot each, given by the master before it forks the worker: `take_slot`, `free_slot`). A worker that holds more
than another lets a new connection wait, so that one takes it; if none has within a moment (a millisecond for
each connection held, MAX_WAIT at most), it takes it itself. A worker that holds the fewest takes it at once, so
a client that connects for each request never waits.
"""
import mmap
import os
import time

from gunicorn.workers.gthread import ThreadWorker


def _seconds(name, default):
    text = os.environ.get(name, default)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number of seconds from 0 to 1, not {text!r}")
    return value


# seconds a worker lets a new connection wait for each connection it holds, when another holds fewer
WAIT_PER_CONNECTION = _seconds("PIER_WEB_ACCEPT_WAIT", "0.001")
MAX_WAIT = max(0.02, WAIT_PER_CONNECTION * 20)
SLOTS = 64
FREE = -1

_table = None  # the master's, shared with the workers it forks: connections held, per slot (FREE: no worker)
_taken = set()  # in the master: the slots of its workers


def _shared_table():
    global _table
    if _table is None:
        _table = memoryview(mmap.mmap(-1, SLOTS * 4)).cast("i")  # anonymous and shared: forked workers see it
        for slot in range(SLOTS):
            _table[slot] = FREE
    return _table


def take_slot(worker):
    """In the master, before it forks `worker` (gunicorn's pre_fork hook)."""
    table = _shared_table()
    worker.slot = next((slot for slot in range(SLOTS) if slot not in _taken), None)  # None: it takes any
    if worker.slot is not None:
        _taken.add(worker.slot)
        table[worker.slot] = 0


def free_slot(worker):
    """In the master, once `worker` has exited (gunicorn's child_exit hook)."""
    slot = getattr(worker, "slot", None)
    if slot is not None:
        _taken.discard(slot)
        _table[slot] = FREE


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slot = None
        self.accept_at = None  # when a connection this worker let wait is due; None: none waits

    def publish(self):
        if self.slot is not None:
            _table[self.slot] = self.nr_conns

    def fewest_elsewhere(self):
        held = [count for slot, count in enumerate(_table) if count != FREE and slot != self.slot]
        return min(held, default=None)

    def accept(self, listener):
        if self.slot is not None and self.accept_at is None:
            fewest = self.fewest_elsewhere()
            if fewest is not None and fewest < self.nr_conns:
                self.accept_at = time.monotonic() + min(self.nr_conns * WAIT_PER_CONNECTION, MAX_WAIT)
                self.set_accept_enabled(False)
                return
        super().accept(listener)
        self.publish()

    def set_accept_enabled(self, enabled):
        if enabled and self.accept_at is not None:
            return  # the run loop turns accepting back on each turn: not while a connection waits
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):
        self.publish()
        if self.accept_at is not None:
            left = self.accept_at - time.monotonic()
            if left > 0:
                timeout = min(timeout, left)
            else:
                self.accept_at = None
                if self.alive and self.nr_conns < self.worker_connections:  # not once it stops
                    for listener in self.sockets:
                        super().accept(listener)  # it tolerates EAGAIN: another worker took the connection
                    self.publish()
                self.set_accept_enabled(self.alive and self.nr_conns < self.worker_connections)
        super().wait_for_and_dispatch_events(timeout)
