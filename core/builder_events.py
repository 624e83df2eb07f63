"""Telling the builder that an app is gone, so it removes the app's git repository at once.

The builder subscribes to `pier:builder:forget`; each message is JSON {"app": id, "uuid": uuid}. A builder
that was not listening still never serves an old repository to a new app of the same name: each repository
records the uuid of the app it was made for, and the builder sweeps repositories of gone apps when it starts.
"""
import json

from core import redis_client

CHANNEL = "pier:builder:forget"


def forget(redis_url, app_id, app_uuid):
    redis_client.client(redis_url).publish(CHANNEL, json.dumps({"app": app_id, "uuid": str(app_uuid)}))
