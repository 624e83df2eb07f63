"""The hand-off to the router: the ready endpoints of each app, per process type, in Redis.

`pier:endpoints` is a hash of app id -> JSON {"web": ["172.18.0.5:5000", ...]}, readable at any time;
every change is also published on the `pier:endpoints` channel with the app id as the message.

Each change also bumps `pier:endpoints:version`. The router records the version its running nginx serves
in `pier:router:applied` (and `pier:router:alive` while it runs), and publishes it on `pier:router:routed`,
so a deploy can wait until its new containers really receive traffic before it stops the old ones (and its
push can say it is done), hearing it at once.
"""
import json
import time

from core import redis_client

KEY = "pier:endpoints"
CHANNEL = "pier:endpoints"
VERSION = "pier:endpoints:version"
APPLIED = "pier:router:applied"
ROUTED = "pier:router:routed"
RECHECK_SECONDS = 0.5  # a deploy waiting for the router looks again at least this often (is it still alive?)
ALIVE = "pier:router:alive"


class Endpoints:
    def __init__(self, redis_url):
        self.redis = redis_client.client(redis_url)

    def publish(self, app_id, endpoints):
        """Sets an app's endpoints ({type: ["ip:port"]}); publishes only when they changed. Returns the
        endpoints version that includes the change, or 0 when nothing changed."""
        text = json.dumps({t: sorted(e) for t, e in sorted(endpoints.items()) if e}, sort_keys=True)
        if self.redis.hget(KEY, app_id) == text.encode():
            return 0
        self.redis.hset(KEY, app_id, text)
        version = self.redis.incr(VERSION)
        self.redis.publish(CHANNEL, app_id)
        return version

    def clear(self, app_id):
        if self.redis.hdel(KEY, app_id):
            self.redis.incr(VERSION)
            self.redis.publish(CHANNEL, app_id)

    def version(self):
        return int(self.redis.get(VERSION) or 0)

    def routed(self, version):
        """Called by the router once nginx serves everything up to `version`."""
        self.redis.set(APPLIED, version)
        self.redis.publish(ROUTED, version)

    def router_alive(self, seconds):
        """Called by the router's loop on every turn: deploys wait for it only while it runs."""
        self.redis.set(ALIVE, 1, ex=seconds)

    def wait_routed(self, version, timeout):
        """True once the router serves `version` (at most `timeout` seconds); False at once if no router runs."""
        deadline = time.monotonic() + timeout
        subscription = self.redis.pubsub(ignore_subscribe_messages=True)
        subscription.subscribe(ROUTED)  # before the first look: a version routed after it is heard
        try:
            while self.redis.exists(ALIVE):
                if int(self.redis.get(APPLIED) or 0) >= version:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                subscription.get_message(timeout=min(left, RECHECK_SECONDS))
            return False
        finally:
            subscription.close()

    def read(self, app_id):
        text = self.redis.hget(KEY, app_id)
        return json.loads(text) if text else {}

    def read_all(self):
        return {app.decode(): json.loads(text) for app, text in self.redis.hgetall(KEY).items()}
