"""api/gate.py: requests take turns in the order they came, a body is read before its turn, and the size is
checked."""
import io
import threading

import pytest

from api.gate import Gate, Turns, _size
from tests.support.waiting import wait_for

LIMIT = 1000


def test_turns_go_to_the_waiters_in_the_order_they_came():
    turns = Turns(1)
    turns.acquire()
    served = []

    def wait(name):
        turns.acquire()
        served.append(name)
        turns.release()

    threads = []
    for name in "abcdef":
        threads.append(threading.Thread(target=wait, args=(name,)))
        threads[-1].start()
        assert wait_for(lambda: len(turns.waiting) == len(threads), 10, 0.01)
    turns.release()
    for thread in threads:
        thread.join(10)
    assert served == list("abcdef")
    assert turns.free == 1 and not turns.waiting


def test_a_newcomer_waits_behind_the_waiters_even_when_a_turn_is_free():
    turns = Turns(2)
    turns.acquire()
    turns.acquire()
    waiter = threading.Thread(target=turns.acquire)
    waiter.start()
    assert wait_for(lambda: turns.waiting, 10, 0.01)
    turns.release()  # handed to the waiter, not left for a newcomer
    waiter.join(10)
    assert not waiter.is_alive() and turns.free == 0


class SlowBody(io.RawIOBase):
    """A request body that arrives only when allowed."""

    def __init__(self, data):
        self.data, self.allowed = data, threading.Event()

    def read(self, size=-1):
        self.allowed.wait(10)
        data, self.data = self.data, b""
        return data


def echo(environ, start_response):
    start_response("200 OK", [])
    return [environ["wsgi.input"].read()]


def environ(body=None, **headers):
    return {"wsgi.input": body or io.BytesIO(), **headers}


def test_a_slow_body_is_read_before_its_turn_so_it_holds_none():
    gate = Gate(echo, 1, LIMIT)
    slow = SlowBody(b'{"values": {}}')
    answers = {}
    uploader = threading.Thread(target=lambda: answers.update(
        slow=gate(environ(slow, CONTENT_LENGTH="14"), lambda *a: None)))
    uploader.start()
    assert gate(environ(), lambda *a: None) == [b""], "the other request got its turn"
    slow.allowed.set()
    uploader.join(10)
    assert answers["slow"] == [b'{"values": {}}']
    assert gate.turns.free == 1


class Socket(io.BytesIO):
    """A body stream that, like a socket, has more after the body: reading past it would wait for ever."""

    def read(self, size=-1):
        if size < 0 or self.tell() + size > len(self.getvalue()) - len(b"<next request>"):
            raise AssertionError("read past the body")
        return super().read(size)


@pytest.mark.parametrize("headers,read", [
    ({"CONTENT_LENGTH": "5"}, b"hello"),
    ({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}, b"hello<next request>"),
    ({"HTTP_TRANSFER_ENCODING": "chunked"}, b""),  # the server does not end the stream: read in its turn
    ({"CONTENT_LENGTH": str(LIMIT + 1)}, b""),  # too large: left for Flask's 413, never read
    ({"CONTENT_LENGTH": "x"}, b""),
    ({"CONTENT_LENGTH": "0"}, b""),
])
def test_which_bodies_are_read_first_and_how_far(headers, read):
    body = io.BytesIO(b"hello<next request>") if "wsgi.input_terminated" in headers else Socket(b"hello<next request>")
    request = environ(body, **headers)
    Gate(lambda environ, start_response: [], 1, LIMIT)(request, lambda *a: None)
    assert body.tell() == len(read)
    if read:
        assert request["wsgi.input"].read() == read


def test_a_turn_is_given_back_when_the_app_fails():
    def fails(environ, start_response):
        raise RuntimeError("boom")

    gate = Gate(fails, 1, LIMIT)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            gate(environ(), lambda *a: None)
    assert gate.turns.free == 1


def test_stepping_aside_lets_another_request_through_and_takes_a_turn_after():
    gate = Gate(None, 1, LIMIT)
    other = {}

    def app(request, start_response):
        if request.get("waits"):
            with gate.stepped_aside():  # with the only turn held, the other request would wait for ever
                thread = threading.Thread(target=lambda: other.update(answer=gate(environ(), start_response)))
                thread.start()
                thread.join(10)
            return [b"done"]
        return [b"other"]

    gate.app = app
    assert gate({**environ(), "waits": True}, lambda *a: None) == [b"done"]
    assert other["answer"] == [b"other"] and gate.turns.free == 1


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", ""])
def test_a_bad_size_is_refused_with_its_name(monkeypatch, value):
    monkeypatch.setenv("PIER_WEB_ACTIVE", value)
    with pytest.raises(ValueError, match="PIER_WEB_ACTIVE must be a whole number of requests, 1 or more"):
        _size("PIER_WEB_ACTIVE", "2")


def test_the_default_size_is_two(monkeypatch):
    monkeypatch.delenv("PIER_WEB_ACTIVE", raising=False)
    assert _size("PIER_WEB_ACTIVE", "2") == 2


class Gone(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, buffer):
        raise ConnectionResetError("the client went away")


def test_a_body_the_client_broke_off_is_a_400_of_the_app_not_a_crash_of_the_gate():
    from werkzeug.exceptions import ClientDisconnected
    from werkzeug.wrappers import Request

    seen = {}

    def app(request, start_response):
        with pytest.raises(ClientDisconnected):
            Request(request).get_data()
        seen["called"] = True
        return []

    Gate(app, 1, LIMIT)(environ(Gone(), CONTENT_LENGTH="5"), lambda *a: None)
    assert seen == {"called": True}
