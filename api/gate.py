"""At most PIER_WEB_ACTIVE requests run at once in a web worker (default 2); the others wait at the gate.

A worker keeps many threads (PIER_WEB_THREADS), since a request that waits for an operation holds one for up to
PIER_SYNC_TIMEOUT. But the threads share one interpreter lock: when eight requests ran at once in a worker, each
waited for the lock behind the others in no fair order, and under load a hundredth of them took five times the
median (bench/api.py: GET /v2/apps at 16 connections, p99 150 ms at 16 threads, 35 ms at 2, for a fifth more
requests a second). Through the gate they take turns in the order they came.

What does not need the interpreter stays outside: a request's body is read before it passes (a slow client
holds a thread, never a turn), its response is written after, a streamed response is streamed after, and a
request waiting for an operation steps aside (`stepped_aside`) until it is done. What runs inside reads from
PostgreSQL and Redis, nothing else, so no turn waits on another request.
"""
import collections
import io
import os
import threading
from contextlib import contextmanager

from werkzeug.exceptions import ClientDisconnected


def _size(name, default):
    text = os.environ.get(name, default)
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise ValueError(f"{name} must be a whole number of requests, 1 or more, not {text!r}")
    return size


class Turns:
    """A semaphore that serves its waiters in the order they came: a turn given back goes straight to the one
    that has waited longest. (threading.Semaphore lets a newcomer take a turn before a waiter it woke: under
    load some requests waited half a second.)"""

    def __init__(self, size):
        self.lock = threading.Lock()
        self.free = size
        self.waiting = collections.deque()

    def acquire(self):
        with self.lock:
            if self.free and not self.waiting:
                self.free -= 1
                return
            ticket = threading.Lock()
            ticket.acquire()
            self.waiting.append(ticket)
        ticket.acquire()  # until release() hands this one its turn

    def release(self):
        with self.lock:
            if self.waiting:
                self.waiting.popleft().release()
            else:
                self.free += 1


class Gate:
    """WSGI middleware: the app behind it runs for at most `size` requests at a time."""

    def __init__(self, app, size, max_body):
        self.app = app
        self.max_body = max_body
        self.turns = Turns(size)
        self.local = threading.local()

    def __call__(self, environ, start_response):
        _read_body_first(environ, self.max_body)
        self.turns.acquire()
        self.local.inside = True
        try:
            return self.app(environ, start_response)
        finally:
            if self.local.inside:
                self.local.inside = False
                self.turns.release()

    @contextmanager
    def stepped_aside(self):
        """Gives up the current request's turn while it waits for something outside (an operation), and takes a
        turn again after."""
        inside = getattr(self.local, "inside", False)
        if inside:
            self.local.inside = False
            self.turns.release()
        try:
            yield
        finally:
            if inside:
                self.turns.acquire()
                self.local.inside = True


def _read_body_first(environ, max_body):
    """Reads a request's body into memory before its turn: its CONTENT_LENGTH bytes (never more: the stream may
    be the socket itself), or a chunked body to its end, up to max_body and a byte, where the server ends the
    stream there (`wsgi.input_terminated`: gunicorn, werkzeug). A body too large is left for Flask to refuse
    (413); one of no stated length on a server that does not end it is read in its turn, as before."""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        size = int(length)
        if 0 < size <= max_body:
            environ["wsgi.input"] = _read(environ["wsgi.input"], size)
    elif environ.get("wsgi.input_terminated") and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        environ["wsgi.input"] = _read(environ["wsgi.input"], max_body + 1)


def _read(stream, size):
    try:
        return io.BytesIO(stream.read(size))
    except OSError:  # the client went away, or sent a broken chunk: the view's read of the body says so (400)
        return _Disconnected()


class _Disconnected(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, buffer):
        raise ClientDisconnected("The client went away before its request's body was read.")


def install(app):
    """Puts the gate in front of the Flask app; returns it."""
    gate = Gate(app.wsgi_app, _size("PIER_WEB_ACTIVE", "2"), app.config["MAX_CONTENT_LENGTH"])
    app.wsgi_app = gate
    app.extensions["pier_gate"] = gate
    return gate


@contextmanager
def stepped_aside(app):
    """The gate's stepped_aside, for a request of `app` (none without a gate)."""
    gate = app.extensions.get("pier_gate")
    if gate is None:
        yield
        return
    with gate.stepped_aside():
        yield
