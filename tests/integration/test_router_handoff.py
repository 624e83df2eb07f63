"""A deploy waits for the router to route its new containers, and only while a router runs."""
import threading
import time

import redis

from core.endpoints import ALIVE, APPLIED, VERSION, Endpoints
from tests.conftest import TEST_REDIS_URL


def fresh():
    endpoints = Endpoints(TEST_REDIS_URL)
    endpoints.redis.delete(ALIVE, APPLIED, VERSION, "pier:endpoints")
    return endpoints


def test_each_change_bumps_the_version_and_no_change_does_not():
    endpoints = fresh()
    first = endpoints.publish("handoff", {"web": ["10.0.0.1:5000"]})
    assert first == endpoints.version() >= 1
    assert endpoints.publish("handoff", {"web": ["10.0.0.1:5000"]}) == 0
    assert endpoints.publish("handoff", {"web": ["10.0.0.2:5000"]}) == first + 1
    endpoints.clear("handoff")
    assert endpoints.version() == first + 2


def test_without_a_running_router_nothing_waits():
    endpoints = fresh()
    version = endpoints.publish("handoff", {"web": ["10.0.0.1:5000"]})
    started = time.monotonic()
    assert endpoints.wait_routed(version, timeout=10) is False
    assert time.monotonic() - started < 1


def test_a_running_router_is_waited_for_until_it_serves_the_version():
    endpoints = fresh()
    endpoints.router_alive(5)
    version = endpoints.publish("handoff", {"web": ["10.0.0.1:5000"]})
    router = threading.Timer(0.5, Endpoints(TEST_REDIS_URL).routed, args=(version,))
    router.start()
    assert endpoints.wait_routed(version, timeout=10) is True
    assert int(redis.Redis.from_url(TEST_REDIS_URL).get(APPLIED)) == version
    assert endpoints.wait_routed(version + 1, timeout=0.3) is False  # a router that never gets there
    endpoints.redis.delete(ALIVE)
