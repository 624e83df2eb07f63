"""A stand-in hook for the hook server's tests: says what it got, then ends, or waits for SIGTERM."""
import os
import signal
import sys
import time


def main():
    print(f"stdin {sys.stdin.read().strip()}", flush=True)
    print(f"cwd {os.getcwd()}", flush=True)
    print(f"env {os.environ.get('PROBE_VALUE', '')}", flush=True)
    print("to stderr", file=sys.stderr, flush=True)
    if os.environ.get("PROBE_WAIT"):
        def stopped(*_):
            with open(os.environ["PROBE_WAIT"], "w") as marker:
                marker.write("stopped")
            print("stopped", flush=True)
            sys.exit(5)
        signal.signal(signal.SIGTERM, stopped)
        print("waiting", flush=True)
        time.sleep(60)
    return int(os.environ.get("PROBE_EXIT", "0"))
