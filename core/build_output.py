"""Build output travels from the worker to the `git push` terminal over a Redis channel per build.

Messages are JSON: {"line": text} for output, {"alive": true} every ALIVE_SECONDS while the build runs (so
the builder knows a silent build from a dead one), then one {"done": true, "ok": bool, ...} at the end.
The builder subscribes before it enqueues the build, so no line is lost.
"""
import json
import threading
from contextlib import contextmanager

import redis

from core import redis_client

ALIVE_SECONDS = 5


def channel(build_id):
    return f"pier:build:{build_id}"


def cancel_key(build_id):
    return f"pier:build:{build_id}:cancel"


class Publisher:
    def __init__(self, redis_url, build_id):
        self.redis = redis_client.client(redis_url)
        self.build_id = build_id
        self.channel = channel(build_id)

    def line(self, text):
        for part in text.rstrip("\n").split("\n"):
            self.redis.publish(self.channel, json.dumps({"line": part.rstrip("\r")}))

    def step(self, text):
        self.line(f"-----> {text}")

    def detail(self, text):
        self.line(f"       {text}")

    def alive(self):
        self.redis.publish(self.channel, json.dumps({"alive": True}))

    @contextmanager
    def heartbeat(self):
        """Says the build is alive every ALIVE_SECONDS while the block runs."""
        stop = threading.Event()

        def beat():
            while not stop.wait(ALIVE_SECONDS):
                try:
                    self.alive()
                except redis.RedisError:
                    pass

        thread = threading.Thread(target=beat, daemon=True, name=f"heartbeat-{self.build_id}")
        thread.start()
        try:
            yield
        finally:
            stop.set()

    def done(self, ok, **result):
        self.redis.publish(self.channel, json.dumps(dict(result, done=True, ok=ok)))

    def cancelled(self):
        """True once the builder asked to stop (its client went away)."""
        return bool(self.redis.exists(cancel_key(self.build_id)))
