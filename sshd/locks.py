"""Per-app push locks in Redis: one push at a time per app, expiring if the builder vanishes."""
import uuid

import redis

# Deletes the lock only if it is still ours (it may have expired and been taken by another push).
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class PushLocks:
    def __init__(self, redis_url, timeout):
        self.redis = redis.Redis.from_url(redis_url)
        self.timeout = timeout
        self._release = self.redis.register_script(RELEASE)

    @staticmethod
    def key(app):
        return f"pier:push-lock:{app}"

    def acquire(self, app):
        """A token when the lock was free, else None."""
        token = uuid.uuid4().hex
        if self.redis.set(self.key(app), token, nx=True, ex=self.timeout):
            return token
        return None

    def release(self, app, token):
        self._release(keys=[self.key(app)], args=[token])
