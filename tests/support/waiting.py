"""Polling for something a user would notice, with a bound instead of a fixed sleep."""
import time


def wait_for(check, seconds=60, step=0.3):
    """True as soon as check() is true; False if it stays false for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False
