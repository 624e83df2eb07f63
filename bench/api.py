"""Controller throughput: authenticated GET /v2/apps and GET /v2/apps/{app} with 1,000 apps in the database,
next to a bare Flask endpoint served by the same gunicorn settings (the baseline).

    scripts/with-env python bench/api.py [--apps 1000] [--seconds 10] [--connections 16]

Uses its own database (pier_bench) and ports 18000/18001. Prints requests/s, p50 and p99 for each, and the
ratio to the baseline. A benchmark, not a test: it never fails on a figure.
"""
import argparse
import os
import re
import subprocess
import sys
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


def serve(target, port, env):
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", os.path.join(TOP, "gunicorn.conf.py"), "--bind",
         f"127.0.0.1:{port}", "--access-logfile", "/dev/null", target],
        cwd=TOP, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    url = bench_database_url()
    token = seed(url, args.apps)
    env = dict(os.environ, DATABASE_URL=url)
    servers = [serve("api:create_app()", 18000, env), serve("bench.baseline:app", 18001, env)]
    try:
        rows = [("bare Flask (baseline)", wrk("http://127.0.0.1:18001/bare", args.seconds, args.connections))]
        for label, path in (("GET /v2/apps", "/v2/apps"), ("GET /v2/apps/{app}", "/v2/apps/bench-0500")):
            rows.append((label, wrk(f"http://127.0.0.1:18000{path}", args.seconds, args.connections, token)))
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    baseline = rows[0][1][0]
    print(f"{args.apps} apps, {args.connections} connections, {args.seconds}s each, "
          f"gunicorn settings from gunicorn.conf.py, {os.cpu_count()} cores")
    print(f"{'endpoint':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'vs baseline':>13}")
    for label, (rps, p50, p99, errors) in rows:
        print(f"{label:<24}{rps:>10.0f}{p50:>10.2f}{p99:>10.2f}{errors:>8}{rps / baseline:>12.0%}")


if __name__ == "__main__":
    main()
