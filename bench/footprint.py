"""Memory of an idle platform: PSS of each of Pier's own processes, as `make run` starts them from the Procfile.

    scripts/with-env python bench/footprint.py [--settle 20] [--procfile Procfile]

The platform runs under scripts/supervise on its own database (pier_bench), Redis db and ports, with every
process of the Procfile (the workers' fleet with every line of workers/Procfile, flower and beat too). Each web
worker serves one request (/healthz, as in steady use); after --settle seconds of idling, each process's
proportional set size (PSS: its private memory plus its share of what it shares, /proc/PID/smaps_rollup) is read,
grouped by Procfile line (the fleet's by workers/Procfile line). The services Pier stands on (PostgreSQL, Redis,
dockerd, the registry) are not counted; nginx, which the router starts, is shown on a line of its own and left out
of the total. A benchmark, not a test: it never fails on a figure.
"""
import argparse
import http.client
import os
import re
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP))

from tests.e2e.platform import Platform  # noqa: E402
from tests.support.workers import read_procfile  # noqa: E402


def children():
    """pid -> parent pid, for every process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    return parents


def tree(root, parents):
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        found.append(pid)
        frontier.extend(child for child, parent in parents.items() if parent == pid)
    return found


def pss_kib(pid):
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def label(name, pid):
    """The Procfile line's name; for the fleet's processes (workers/fleet.py), `workers/` and the name it gave."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return name
    return f"{name}/{comm.removeprefix('pier-')}" if comm.startswith("pier-") else name


def command(pid):
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(word.decode(errors="replace") for word in words if word)[:90]


def serve_once_each(url, workers):
    """A request to each web worker, as in steady use (a worker's first request writes pages of its own): as many
    kept-alive connections as workers, open together, go one to each (api/balanced_worker.py)."""
    host, port = url.removeprefix("http://").split(":")
    connections = [http.client.HTTPConnection(host, int(port), timeout=30) for _ in range(workers)]
    try:
        for connection in connections:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
    finally:
        for connection in connections:
            connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=20.0, help="seconds of idling before the reading")
    parser.add_argument("--procfile", default="Procfile")
    args = parser.parse_args()
    names = tuple(read_procfile(TOP / args.procfile))
    with tempfile.TemporaryDirectory(prefix="pier-bench-footprint-") as scratch:
        database = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/pier_bench"
        platform = Platform(scratch, processes=names, database_url=database, redis_url="redis://127.0.0.1:6379/13")
        platform.env.pop("PIER_WEB_WORKERS")  # as `make run` sizes it: one per core
        platform.start()
        try:
            serve_once_each(platform.url, os.cpu_count())
            time.sleep(args.settle)
            parents = children()
            rows = []
            for name in names:
                pid = platform.pid_of(name)
                for member in tree(pid, parents) if pid else ():
                    rows.append((label(name, member), member, command(member), pss_kib(member)))
        finally:
            platform.stop()
    print(f"{'process':<16} {'pid':>7} {'PSS MiB':>8}  command")
    ours, nginx = 0, 0
    for name, pid, cmd, kib in rows:
        is_nginx = cmd.startswith("nginx")
        print(f"{name + (' (nginx)' if is_nginx else ''):<16} {pid:>7} {kib / 1024:>8.1f}  {cmd}")
        if is_nginx:
            nginx += kib
        else:
            ours += kib
    print()
    for name in dict.fromkeys(name for name, _, _, _ in rows):
        kib = sum(k for n, _, cmd, k in rows if n == name and not cmd.startswith("nginx"))
        count = sum(1 for n, _, cmd, _ in rows if n == name and not cmd.startswith("nginx"))
        print(f"{name:<16} {count:>2} processes {kib / 1024:>7.1f} MiB")
    count = sum(1 for _, _, cmd, _ in rows if not cmd.startswith("nginx"))
    print(f"\nPier's own processes: {count}, {ours / 1024:.0f} MiB PSS in all (goal 400 MiB); "
          f"nginx (not counted): {nginx / 1024:.0f} MiB; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
