"""No push while the registry sweeps: a gate in Redis between builds and the registry's garbage collection.

distribution's `garbage-collect` deletes every blob no manifest references. A build's layers are uploaded
before its manifest, so a push running during the sweep could lose them. Each build's push therefore holds
a place in a set of pushes in progress (entered only while the gate is open, atomically), and garbage
collection closes the gate, waits until the pushes in progress have ended, sweeps, and opens it again. Both
sides expire: a dead build's place at its deadline, a dead collection's gate after its time limit.

Pushes from outside Pier's builds (an operator's `docker push`, `make run` pushing the stack image) do not
pass this gate; see the README's "Garbage collection".
"""
import time
import uuid
from contextlib import contextmanager

from core import redis_client

GATE = "pier:registry:gc"
PUSHES = "pier:registry:pushes"
POLL_SECONDS = 1.0

# KEYS: gate, pushes; ARGV: push id, seconds it may take. 1 when it entered, 0 while the gate is closed.
ENTER = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('zadd', KEYS[2], tonumber(redis.call('time')[1]) + tonumber(ARGV[2]), ARGV[1])
return 1
"""
# KEYS: pushes. The pushes in progress, once those past their deadline are dropped.
IN_PROGRESS = """
redis.call('zremrangebyscore', KEYS[1], '-inf', redis.call('time')[1])
return redis.call('zcard', KEYS[1])
"""
# KEYS: gate; ARGV: the holder's token. Opens the gate only for the collection that closed it.
OPEN = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class GateClosed(Exception):
    """The registry's garbage collection outlasted the time a push could wait."""


class RegistryGate:
    def __init__(self, redis_url):
        self.redis = redis_client.client(redis_url)

    @contextmanager
    def pushing(self, seconds, on_wait=None):
        """Holds a place among the pushes in progress for at most `seconds`; while the registry's garbage
        collection runs, waits for it (calling `on_wait` once), and raises GateClosed after `seconds`."""
        member, deadline, told = uuid.uuid4().hex, time.monotonic() + seconds, False
        while not self.redis.eval(ENTER, 2, GATE, PUSHES, member, max(1, int(seconds))):
            if time.monotonic() > deadline:
                raise GateClosed("the registry's garbage collection is still running")
            if not told and on_wait is not None:
                on_wait()
                told = True
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            self.redis.zrem(PUSHES, member)

    def in_progress(self):
        return int(self.redis.eval(IN_PROGRESS, 1, PUSHES))

    @contextmanager
    def closed(self, hold_seconds, drain_seconds):
        """Closes the gate to new pushes for at most `hold_seconds` and waits up to `drain_seconds` for the
        pushes in progress to end; yields how many are still in progress (0: the registry may be swept)."""
        token = uuid.uuid4().hex
        if not self.redis.set(GATE, token, nx=True, ex=max(1, int(hold_seconds))):
            yield -1  # another collection holds it
            return
        try:
            deadline = time.monotonic() + drain_seconds
            pushing = self.in_progress()
            while pushing and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
                pushing = self.in_progress()
            yield pushing
        finally:
            self.redis.eval(OPEN, 1, GATE, token)
