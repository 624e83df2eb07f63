"""The process's shared Redis clients survive what used to be survived by making a new client each time."""
import os

import redis

from core import redis_client
from tests.conftest import TEST_REDIS_URL


def test_one_client_per_url_and_options():
    assert redis_client.client(TEST_REDIS_URL) is redis_client.client(TEST_REDIS_URL)
    assert redis_client.client(TEST_REDIS_URL, decode_responses=True) is not redis_client.client(TEST_REDIS_URL)


def test_a_connection_redis_closed_is_made_again():
    shared = redis_client.client(TEST_REDIS_URL)
    shared.set("pier:test:shared", "before")
    mine = shared.client_id()
    killer = redis.Redis.from_url(TEST_REDIS_URL)
    assert killer.client_kill_filter(_id=mine) == 1  # as a restart of Redis does to every connection
    killer.close()
    assert shared.get("pier:test:shared") == b"before"
    assert shared.client_id() != mine


def test_a_forked_child_makes_its_own_connection():
    shared = redis_client.client(TEST_REDIS_URL)
    parent = shared.client_id()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write, str(redis_client.client(TEST_REDIS_URL).client_id()).encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(child, 0)
    answer = os.read(read, 64).decode()
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0 and answer and int(answer) != parent
    assert shared.client_id() == parent  # the parent's connection was left alone
