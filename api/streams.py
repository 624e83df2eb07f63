"""Long-lived responses (`logs -f`): bounded per user and per process, and ended as soon as their client is
gone, so they never take the threads the rest of the API needs."""
import socket
import threading

from flask import request

from core.errors import TooManyRequests


class StreamSlots:
    """At most `total` streams in this process and `per_user` of them for one user."""

    def __init__(self):
        self.lock, self.by_user = threading.Lock(), {}

    def take(self, user, per_user, total):
        with self.lock:
            mine = self.by_user.get(user.id, 0)
            if mine >= per_user:
                raise TooManyRequests(f"{user.username} follows {mine} log streams already, the most a user may "
                                      "(PIER_LOG_FOLLOW_PER_USER); stop one first.", retry_after=5)
            if sum(self.by_user.values()) >= total:
                raise TooManyRequests("This controller serves as many followed log streams as it may "
                                      "(PIER_LOG_FOLLOW_MAX); try again shortly.", retry_after=5)
            self.by_user[user.id] = mine + 1

    def give_back(self, user):
        with self.lock:
            left = self.by_user.get(user.id, 1) - 1
            if left:
                self.by_user[user.id] = left
            else:
                self.by_user.pop(user.id, None)


SLOTS = StreamSlots()


def client_socket():
    """The request's client socket when the server tells it (gunicorn does), else None (the test client)."""
    return request.environ.get("gunicorn.socket")


def gone(sock):
    """Whether the client closed its side: a read that would not block returns nothing. Data it sent anyway
    (a pipelined request) stays unread."""
    if sock is None:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
