"""Recovery from faults: seconds from the fault until the app serves again for good, through the router,
with load, on the platform started as `make run` starts it (its own Redis and PostgreSQL).

    scripts/with-env python bench/faults.py [--rounds 3]

Prints the median and the worst of each fault over the rounds, and the failed requests meanwhile.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP))

from tests.support.faults import FaultPlatform, Load, wait_until  # noqa: E402


def measure(faults, app, body, inject):
    load = Load(faults, app)
    load.start()
    time.sleep(1)
    since = time.monotonic()
    inject()
    at = wait_until(lambda: load.recovered_at(since, body), 120, f"{app} serving again")
    load.finish()
    wait_until(lambda: not faults.operations(), 120, "every operation finishing")
    return at - since, len(load.failures_after(since)), len([a for a in load.answers if a[0] >= since])


def scenarios(faults):
    def kill(app):
        return lambda: faults.process_containers(app)[0].kill()

    def remove(app):
        return lambda: faults.process_containers(app)[0].remove(force=True)

    def deploy_then(app, process):
        def inject():
            faults.api.post(f"/v2/apps/{app}/builds", {"image": "pier-test/web:two"},
                            headers={"Prefer": "respond-async"})
            time.sleep(0.3)
            faults.kill_process(process)
        return inject

    yield "docker kill, 1 replica", "b-kill1", 1, "one", kill
    yield "docker rm -f, 3 replicas", "b-rm3", 3, "one", remove
    yield "Redis lost its data", "b-redis", 1, "one", lambda app: lambda: faults.redis.restart(lose_data=True)
    yield "worker killed mid-deploy", "b-worker", 1, "two", lambda app: deploy_then(app, "worker")
    yield "PostgreSQL restarted mid-deploy", "b-pg", 1, "two", lambda app: lambda: (
        faults.api.post(f"/v2/apps/{app}/builds", {"image": "pier-test/web:two"},
                        headers={"Prefer": "respond-async"}), time.sleep(0.3), faults.postgres.restart())
    yield "reboot (everything stopped, make run)", "b-reboot", 1, "one", lambda app: faults.reboot


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory(prefix="pier-bench-faults-") as workdir:
        faults = FaultPlatform(Path(workdir)).start()
        try:
            for round_number in range(args.rounds):
                for name, prefix, replicas, body, make in scenarios(faults):
                    app = f"{prefix}-{round_number}"
                    faults.deploy(app, replicas=replicas)
                    figures.setdefault(name, []).append(measure(faults, app, body, make(app)))
        finally:
            faults.stop()
    print(f"{args.rounds} rounds on {os.cpu_count()} cores; seconds from the fault to serving again for good")
    print(f"{'fault':<40}{'median':>8}{'worst':>8}{'failed requests (median of rounds)':>38}")
    for name, rounds in figures.items():
        seconds = [r[0] for r in rounds]
        failed = statistics.median(r[1] for r in rounds)
        sent = statistics.median(r[2] for r in rounds)
        print(f"{name:<40}{statistics.median(seconds):>8.1f}{max(seconds):>8.1f}{failed:>22.0f} of {sent:.0f}")


if __name__ == "__main__":
    main()
