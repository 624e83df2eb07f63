"""Per-app push locks in Redis (redis-py's Lock): one push at a time per app, released only by the push
that holds it. A lock lives `timeout` seconds unless renewed: the builder renews the locks of its running
pushes every third of it, so a builder that dies (even by SIGKILL) frees its apps within `timeout`.

Garbage collection takes an app's lock too while it deletes that app's old builds, so no push of an old
commit (whose tag and source folder it would share) runs meanwhile."""
from redis.exceptions import LockError

from core import redis_client


class PushLocks:
    def __init__(self, redis_url, timeout):
        self.redis = redis_client.client(redis_url)
        self.timeout = timeout

    @staticmethod
    def key(app):
        return f"pier:push-lock:{app}"

    def acquire(self, app):
        """The held lock when it was free, else None. Not thread-local: Twisted releases it from another thread."""
        lock = self.redis.lock(self.key(app), timeout=self.timeout, blocking=False, thread_local=False)
        return lock if lock.acquire() else None

    def release(self, app, lock):
        try:
            lock.release()
        except LockError:  # expired, and maybe taken by another push since: not ours to free any more
            pass

    def renew(self, lock):
        """Gives a held lock `timeout` more seconds; False when it was lost (expired and taken)."""
        try:
            return lock.reacquire()
        except LockError:
            return False
