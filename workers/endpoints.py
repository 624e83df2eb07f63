"""The hand-off to the router: the ready endpoints of each app, per process type, in Redis.

`pier:endpoints` is a hash of app id -> JSON {"web": ["172.18.0.5:5000", ...]}, readable at any time;
every change is also published on the `pier:endpoints` channel with the app id as the message.
"""
import json

import redis

KEY = "pier:endpoints"
CHANNEL = "pier:endpoints"


class Endpoints:
    def __init__(self, redis_url):
        self.redis = redis.Redis.from_url(redis_url)

    def publish(self, app_id, endpoints):
        """Sets an app's endpoints ({type: ["ip:port"]}); publishes only when they changed."""
        text = json.dumps({t: sorted(e) for t, e in sorted(endpoints.items()) if e}, sort_keys=True)
        if self.redis.hget(KEY, app_id) == text.encode():
            return False
        self.redis.hset(KEY, app_id, text)
        self.redis.publish(CHANNEL, app_id)
        return True

    def clear(self, app_id):
        if self.redis.hdel(KEY, app_id):
            self.redis.publish(CHANNEL, app_id)

    def read(self, app_id):
        text = self.redis.hget(KEY, app_id)
        return json.loads(text) if text else {}

    def read_all(self):
        return {app.decode(): json.loads(text) for app, text in self.redis.hgetall(KEY).items()}
