"""Build output travels from the worker to the `git push` terminal over a Redis channel per build.

Messages are JSON: {"line": text} for output, then one {"done": true, "ok": bool, ...} at the end.
The builder subscribes before it enqueues the build, so no line is lost.
"""
import json

import redis


def channel(build_id):
    return f"pier:build:{build_id}"


def cancel_key(build_id):
    return f"pier:build:{build_id}:cancel"


class Publisher:
    def __init__(self, redis_url, build_id):
        self.redis = redis.Redis.from_url(redis_url)
        self.build_id = build_id
        self.channel = channel(build_id)

    def line(self, text):
        for part in text.rstrip("\n").split("\n"):
            self.redis.publish(self.channel, json.dumps({"line": part.rstrip("\r")}))

    def step(self, text):
        self.line(f"-----> {text}")

    def detail(self, text):
        self.line(f"       {text}")

    def done(self, ok, **result):
        self.redis.publish(self.channel, json.dumps(dict(result, done=True, ok=ok)))

    def cancelled(self):
        """True once the builder asked to stop (its client went away)."""
        return bool(self.redis.exists(cancel_key(self.build_id)))
