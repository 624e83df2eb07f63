"""api/balanced_worker.py's parts that run in gunicorn's master (the workers' balance itself:
tests/integration/test_web_workers.py)."""
import os
import subprocess
import sys
import types

import pytest

from api import balanced_worker


def test_each_worker_gets_a_slot_of_its_own_and_a_gone_worker_frees_it():
    first, second, third = (types.SimpleNamespace() for _ in range(3))
    balanced_worker.take_slot(first)
    balanced_worker.take_slot(second)
    try:
        assert first.slot != second.slot
        assert balanced_worker._table[first.slot] == 0
        balanced_worker.free_slot(first)
        assert balanced_worker._table[first.slot] == balanced_worker.FREE
        balanced_worker.take_slot(third)  # the freed slot is given again
        assert third.slot == first.slot
    finally:
        balanced_worker.free_slot(second)
        balanced_worker.free_slot(third)


@pytest.mark.parametrize("value", ["abc", "-1", "5", "nan", ""])
def test_a_bad_wait_is_refused_with_its_name(value):
    result = subprocess.run([sys.executable, "-c", "import api.balanced_worker"], capture_output=True, text=True,
                            env=dict(os.environ, PIER_WEB_ACCEPT_WAIT=value))
    assert result.returncode != 0
    assert f"PIER_WEB_ACCEPT_WAIT must be a number of seconds from 0 to 1, not {value!r}" in result.stderr
