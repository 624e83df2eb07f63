"""Controller throughput: authenticated GET /v2/apps and GET /v2/apps/{app} with 1,000 apps in the database,
next to a bare Flask endpoint served by the same gunicorn settings (the baseline).

    scripts/with-env python bench/api.py [--apps 1000] [--seconds 5] [--connections 16] [--rounds 3] [--vs REF]

Uses its own database (pier_bench) and ports 18000, 18001 and 18010. Prints the medians over the rounds of
requests/s, p50 and p99 for each, and the ratio to the baseline. With --vs, the controller of a git ref (a
commit, a branch; checked out into a temporary worktree) is served beside this tree's from the same database,
and each round loads one then the other, so both see the same machine. A benchmark, not a test: it never fails
on a figure.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from sqlalchemy import create_engine, text

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)


def bench_database_url():
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/pier_bench"


def seed(url, apps):
    from flask_migrate import upgrade

    from api import create_app
    from core.app import add_migrations
    from core.extensions import db
    from core.models import Token, User
    from core.passwords import hash_password
    from core.services import apps as app_service
    from core.settings import Settings

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    # one user owns them all, past the default quota (PIER_MAX_APPS_PER_USER): the bench reads, never creates
    flask_app = add_migrations(create_app(Settings.from_env(database_url=url, max_apps_per_user=max(apps, 100))))
    with flask_app.app_context():
        upgrade()
        user = User(username="bench", email="bench@example.com", password_hash=hash_password("bench"))
        db.session.add(user)
        db.session.commit()
        for i in range(apps):
            app_service.create(user, f"bench-{i:04d}")
        token = Token.issue(user)
        db.session.commit()
    return token


def serve(target, port, env, top=TOP):
    """gunicorn serving `target` from the tree at `top` (its code first on the path)."""
    env = dict(env, PYTHONPATH=top)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", os.path.join(top, "gunicorn.conf.py"), "--bind",
         f"127.0.0.1:{port}", "--access-logfile", "/dev/null", target],
        cwd=top, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz" if "create_app" in target
                                   else f"http://127.0.0.1:{port}/bare", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{target} did not start on port {port}")


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, seconds, connections, token=None):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        command[1:1] = ["-H", f"Authorization: token {token}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, to_ms(*p50.groups()), to_ms(*p99.groups()), int(errors.group(1)) if errors else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vs", metavar="REF", help="also serve this git ref's controller, side by side")
    args = parser.parse_args()

    url = bench_database_url()
    token = seed(url, args.apps)
    env = dict(os.environ, DATABASE_URL=url)
    scratch = tempfile.mkdtemp(prefix="pier-bench-api-")
    controllers = [("this tree", 18000, TOP)]
    servers = []
    try:
        if args.vs:
            other = os.path.join(scratch, "tree")
            subprocess.run(["git", "-C", TOP, "worktree", "add", "--detach", "-q", other, args.vs], check=True)
            controllers.insert(0, (args.vs, 18010, other))
        servers.append(serve("bench.baseline:app", 18001, env))
        servers += [serve("api:create_app()", port, env, top) for _, port, top in controllers]
        rows = {}

        def load(label, target, token=None):
            rows.setdefault(label, []).append(wrk(target, args.seconds, args.connections, token))

        for _ in range(args.rounds):
            load("bare Flask (baseline)", "http://127.0.0.1:18001/bare")
            for endpoint, path in (("GET /v2/apps", "/v2/apps"), ("GET /v2/apps/{app}", "/v2/apps/bench-0500")):
                for name, port, _ in controllers:
                    label = endpoint if not args.vs else f"{endpoint} ({name})"
                    load(label, f"http://127.0.0.1:{port}{path}", token)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        if args.vs:
            subprocess.run(["git", "-C", TOP, "worktree", "remove", "--force", os.path.join(scratch, "tree")])
        shutil.rmtree(scratch, ignore_errors=True)
    baseline = statistics.median([rps for rps, *_ in rows["bare Flask (baseline)"]])
    print(f"{args.apps} apps, {args.connections} connections, {args.seconds}s each, medians of {args.rounds} rounds, "
          f"gunicorn settings from gunicorn.conf.py, {os.cpu_count()} cores")
    width = max(len(label) for label in rows) + 2
    print(f"{'endpoint':<{width}}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'vs baseline':>13}")
    for label, runs in rows.items():
        rps, p50, p99, errors = (statistics.median([run[i] for run in runs]) for i in range(4))
        print(f"{label:<{width}}{rps:>10.0f}{p50:>10.2f}{p99:>10.2f}{errors:>8.0f}{rps / baseline:>12.0%}")


if __name__ == "__main__":
    main()
