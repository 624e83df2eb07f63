"""The pods the scheduler last saw, per app, kept in Redis by the workers and read by the API.

`pier:pods` is a hash of app id -> JSON {"pods": [{"name", "release", "started", "state", "type"}, ...],
"observed": unix time}. The workers write an app's entry after every job that changes its processes, on
every reconcile round and on every container event they watch, so the API answers `ps` without calling the
scheduler inside a request.
"""
import json
import time

from core import redis_client

KEY = "pier:pods"


class PodStates:
    def __init__(self, redis_url):
        self.redis = redis_client.client(redis_url)

    def write(self, app_id, pods):
        """pods: dicts as the API shows them."""
        ordered = sorted(pods, key=lambda p: (p["type"], p["name"]))
        self.redis.hset(KEY, app_id, json.dumps({"pods": ordered, "observed": time.time()}))

    def write_all(self, pods_by_app, known_apps=None):
        """Replaces every app's entry in one round trip; apps in `known_apps` without pods get an empty list."""
        now = time.time()
        entries = {app: json.dumps({"pods": sorted(pods, key=lambda p: (p["type"], p["name"])), "observed": now})
                   for app, pods in pods_by_app.items()}
        for app in known_apps or ():
            entries.setdefault(app, json.dumps({"pods": [], "observed": now}))
        if entries:
            self.redis.hset(KEY, mapping=entries)

    def forget(self, app_id):
        self.redis.hdel(KEY, app_id)

    def read(self, app_id):
        """The app's pods, or None when the workers have not observed it yet (e.g. after Redis lost its data)."""
        text = self.redis.hget(KEY, app_id)
        return json.loads(text)["pods"] if text else None
