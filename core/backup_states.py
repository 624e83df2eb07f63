"""The database's backups as the workers last listed them, kept in Redis for the API (which never runs
pgBackRest itself: it may not even be on the database's machine).

`pier:backups` is JSON {"backups": [Backup.as_dict(), ...], "error": text or null, "observed": unix time}.
"""
import json
import time

from core import redis_client

KEY = "pier:backups"


class BackupStates:
    def __init__(self, redis_url):
        self.redis = redis_client.client(redis_url)

    def write(self, backups, error=None):
        self.redis.set(KEY, json.dumps({"backups": backups, "error": error, "observed": time.time()}))

    def read(self):
        """The last listing, or None before any worker listed the repository."""
        text = self.redis.get(KEY)
        return json.loads(text) if text else None
