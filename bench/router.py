"""Router speed: what nginx in front of an app costs, and how long a route change takes to answer.

    scripts/with-env python bench/router.py [--seconds 10] [--runs 3] [--changes 7] [--apps 10,1000] [--no-lua]

1. Throughput and latency with wrk from 127.0.0.1 (32 connections, then 1), direct to a backend and
   through Pier's nginx (rendered by router/render.py, one route), for two backends: a static nginx server
   (the worst case for the ratio: the proxy does as much work per request as the backend) and the bare Flask
   app of bench/baseline.py under the controller's gunicorn settings (an app). Median of --runs runs each.
2. Route-change time at each --apps count: the real `python -m router.sync` loop over its own database
   (pier_bench_router, created if missing) and Redis (--redis-url); the time from publishing an app's new
   endpoint in the registry, or adding a domain in the database, until a request through nginx answers from
   the new place. Median of --changes changes, with where the time goes (read routes, render, nginx -t).
3. The alternative design, when libnginx-mod-http-lua is installed: one upstream whose peer a
   balancer_by_lua block takes from a shared dict, updated over HTTP without a reload; the same figures.

Ports 18110-18141. Prints the load average next to each figure: the machine is shared. A benchmark, not a
test: it never fails on a figure.
"""
import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from sqlalchemy import create_engine, text

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)

from bench.api import serve, to_ms  # noqa: E402
from router.apply import Nginx, workers_of  # noqa: E402
from router.certs import write_files  # noqa: E402
from router.render import render  # noqa: E402

STATIC_A, STATIC_B, FLASK = 18110, 18111, 18112
PIER, LUA, LUA_ADMIN, SYNC, SYNC_TLS = 18120, 18130, 18131, 18140, 18141
LUA_MODULES = ("/usr/lib/nginx/modules/ndk_http_module.so", "/usr/lib/nginx/modules/ngx_http_lua_module.so")
TEMP_PATHS = """    client_body_temp_path {rt}/client_body;
    proxy_temp_path {rt}/proxy;
    fastcgi_temp_path {rt}/fastcgi;
    uwsgi_temp_path {rt}/uwsgi;
    scgi_temp_path {rt}/scgi;"""


def load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def runtime_folder(name):
    folder = tempfile.mkdtemp(prefix=f"pier-bench-{name}-")
    os.chmod(folder, 0o711)  # nginx's workers (nobody) write request bodies below it
    return folder


def start_nginx(folder, conf):
    path = os.path.join(folder, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    subprocess.run(["nginx", "-c", path], check=True)
    return folder


def master_pid(folder):
    with open(os.path.join(folder, "nginx.pid")) as f:
        return int(f.read())


def stop_nginx(folder):
    try:
        with open(os.path.join(folder, "nginx.pid")) as f:
            os.kill(int(f.read()), signal.SIGQUIT)
    except (OSError, ValueError):
        pass


def static_backend(folder):
    """The backend: one nginx worker answering "a" on STATIC_A and "b" on STATIC_B."""
    servers = "".join(f'    server {{ listen 127.0.0.1:{port}; location / {{ return 200 "{body}"; }} }}\n'
                      for port, body in ((STATIC_A, "a"), (STATIC_B, "b")))
    return start_nginx(folder, f"""worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{TEMP_PATHS.format(rt=folder)}
    keepalive_requests 100000;
{servers}}}
""")


def lua_router(folder):
    """The alternative: routes live in a shared dict ({host: "ip:port ip:port"}), read per request by a
    balancer_by_lua block, changed by POSTing "host peers" lines to LUA_ADMIN; no reload for endpoints."""
    loads = "".join(f"load_module {module};\n" for module in LUA_MODULES)
    return start_nginx(folder, f"""{loads}worker_processes auto;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{TEMP_PATHS.format(rt=folder)}
    lua_shared_dict routes 32m;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Request-Id $request_id;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    upstream pier_dynamic {{
        server 0.0.0.1;
        balancer_by_lua_block {{
            local peers = ngx.shared.routes:get(ngx.var.host)
            if not peers then return ngx.exit(502) end
            local list = {{}}
            for peer in peers:gmatch("%S+") do list[#list + 1] = peer end
            local ip, port = list[math.random(#list)]:match("^(.+):(%d+)$")
            require("ngx.balancer").set_current_peer(ip, tonumber(port))
        }}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{LUA} default_server;
        location / {{ proxy_pass http://pier_dynamic; }}
    }}
    server {{
        listen 127.0.0.1:{LUA_ADMIN};
        client_max_body_size 8m;
        client_body_buffer_size 8m;  # get_body_data() sees only a body held in memory
        location = /routes {{
            content_by_lua_block {{
                ngx.req.read_body()
                for host, peers in (ngx.req.get_body_data() or ""):gmatch("(%S+) ([^\\n]+)") do
                    ngx.shared.routes:set(host, peers)
                end
                ngx.say("ok")
            }}
        }}
    }}
}}
""")


def wrk(port, host, path, seconds, connections=32):
    threads = min(2, connections)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-H",
                          f"Host: {host}", f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(*re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)", out, re.M).groups())
    p99 = to_ms(*re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M).groups())
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, p50, p99, int(errors.group(1)) if errors else 0, requests


def cpu_seconds(master):
    """CPU time (user + system) used so far by a server's master process and its workers."""
    total = 0
    for pid in [master] + workers_of(master):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def get(port, host):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/", headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.read().decode()
    except OSError:
        return None, ""
    finally:
        connection.close()


def wait_for(port, host, body, timeout=30.0):
    """Seconds until GET / with this Host answers `body`, polling every millisecond."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if get(port, host) == (200, body):
            return time.monotonic() - start
        time.sleep(0.001)
    raise SystemExit(f"{host} never answered {body!r} on port {port}")


def throughput(args, targets):
    """targets: [(label, port, host, path, backend label, pid of the server whose CPU to count)]. The runs are
    interleaved so that drifts in the machine's load hit every path alike. The CPU microseconds per request
    of the server in front (the backend when direct, the router when proxied) do not depend on the load."""
    for connections in (32, 1):
        results = {label: [] for label, *_ in targets}
        for _ in range(args.runs):
            for label, port, host, path, _, master in targets:
                before = cpu_seconds(master)
                figures = wrk(port, host, path, args.seconds, connections)
                cpu = (cpu_seconds(master) - before) / max(1, figures[4]) * 1e6
                results[label].append((figures, os.getloadavg()[0], cpu))
        print(f"\n1. wrk -c{connections} -d{args.seconds}s from 127.0.0.1, median of {args.runs} runs "
              f"({os.cpu_count()} cores; " + ("saturated: throughput" if connections > 1 else
                                            "one request at a time: the latency nginx adds") + ")")
        table(targets, results)


def table(targets, results):
    print(f"{'path':<32}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}{'vs direct':>10}{'+p50 ms':>9}"
          f"{'CPU us/req':>11}  load")
    direct = {}
    for label, _, _, _, backend, _ in targets:
        runs = results[label]
        rps, p50, p99 = (statistics.median(r[0][i] for r in runs) for i in range(3))
        cpu = statistics.median(r[2] for r in runs)
        errors = sum(r[0][3] for r in runs)
        loads = "/".join(f"{r[1]:.1f}" for r in runs)
        if label.startswith("direct"):
            direct[backend] = (rps, p50)
            ratio, added = "", ""
        else:
            ratio, added = f"{rps / direct[backend][0]:.0%}", f"{p50 - direct[backend][1]:+.3f}"
        print(f"{label:<32}{rps:>8.0f}{p50:>8.3f}{p99:>8.3f}{errors:>7}{ratio:>10}{added:>9}{cpu:>11.0f}  {loads}")


def bench_database(url):
    name = "pier_bench_router"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    bench_url = url.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(bench_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return bench_url


def add_apps(flask_app, endpoints, start, stop):
    from core.extensions import db
    from core.models import User
    from core.services import apps as app_service
    with flask_app.app_context():
        user = db.session.execute(db.select(User)).scalar_one()
        for i in range(start, stop):
            app_service.create(user, f"app-{i:04d}")
        db.session.remove()
    pipe = endpoints.redis.pipeline()
    for i in range(start, stop):
        pipe.hset("pier:endpoints", f"app-{i:04d}", f'{{"web": ["127.0.0.1:{STATIC_A}"]}}')
    pipe.publish("pier:endpoints", "bulk")
    pipe.execute()


def add_domain(flask_app, app_id, name):
    from core.extensions import db
    from core.models import App, Domain
    with flask_app.app_context():
        app = db.session.execute(db.select(App).where(App.id == app_id)).scalar_one()
        db.session.add(Domain(app=app, owner=app.owner, domain=name))
        db.session.commit()
        db.session.remove()


def where_time_goes(flask_app, endpoints, runtime, rounds=5):
    """Medians (ms) of one sync's steps: read routes (database and registry), render, `nginx -t`."""
    from core.extensions import db
    from router.routes import desired_routes
    steps = {"read routes": [], "render": [], "nginx -t": []}
    for _ in range(rounds):
        start = time.perf_counter()
        with flask_app.app_context():
            routes = desired_routes("localhost", endpoints.read_all())
            db.session.remove()
        steps["read routes"].append(time.perf_counter() - start)
        start = time.perf_counter()
        render(routes, listen=f"127.0.0.1:{SYNC}", tls_listen=f"127.0.0.1:{SYNC_TLS}", runtime=runtime)
        steps["render"].append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run(["nginx", "-t", "-q", "-c", os.path.join(runtime, "nginx.conf")], check=True,
                       capture_output=True)
        steps["nginx -t"].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in steps.items()}


def route_changes(args, lua):
    from flask_migrate import upgrade

    from api import create_app
    from core.app import add_migrations
    from core.endpoints import Endpoints
    from core.extensions import db
    from core.models import User
    from core.settings import Settings

    url = bench_database(os.environ["DATABASE_URL"])
    flask_app = add_migrations(create_app(Settings.from_env(database_url=url, redis_url=args.redis_url)))
    with flask_app.app_context():
        upgrade()
        db.session.add(User(username="bench", email="bench@example.com", password_hash="-"))
        db.session.commit()
    endpoints = Endpoints(args.redis_url)
    endpoints.redis.delete("pier:endpoints")
    runtime = runtime_folder("sync")
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=args.redis_url, PIER_DOMAIN="localhost",
               PIER_ROUTER_LISTEN=f"127.0.0.1:{SYNC}", PIER_ROUTER_TLS_LISTEN=f"127.0.0.1:{SYNC_TLS}",
               PIER_ROUTER_RUNTIME=runtime)
    router = subprocess.Popen([sys.executable, "-m", "router.sync"], cwd=TOP, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows, have = [], 0
    try:
        for count in args.apps:
            add_apps(flask_app, endpoints, have, count)
            have = count
            wait_for(SYNC, f"app-{count - 1:04d}.localhost", "a", timeout=120)
            registry, database, lua_times = [], [], []
            for n in range(args.changes):
                app_id = f"app-{(n * 7919) % count:04d}"
                start = time.monotonic()
                endpoints.publish(app_id, {"web": [f"127.0.0.1:{STATIC_B}"]})
                wait_for(SYNC, f"{app_id}.localhost", "b")
                registry.append(time.monotonic() - start)
                endpoints.publish(app_id, {"web": [f"127.0.0.1:{STATIC_A}"]})
                wait_for(SYNC, f"{app_id}.localhost", "a")
                start = time.monotonic()
                add_domain(flask_app, app_id, f"d{count}-{n}.example")
                wait_for(SYNC, f"d{count}-{n}.example", "a")
                database.append(time.monotonic() - start)
                if lua:
                    lua_times.append(lua_change(f"{app_id}.localhost", count))
            steps = where_time_goes(flask_app, endpoints, runtime)
            rows.append((count, registry, database, lua_times, steps, os.getloadavg()[0]))
    finally:
        router.send_signal(signal.SIGTERM)
        router.wait(timeout=30)
        shutil.rmtree(runtime, ignore_errors=True)
    print(f"\n2. Route change until it answers through nginx, median (min-max) of {args.changes} changes")
    for count, registry, database, lua_times, steps, load_now in rows:
        print(f"{count:>5} apps, load {load_now:.2f}:")
        print(f"      registry endpoint change, reload: {summary(registry)}")
        print(f"      database domain added, reload:    {summary(database)}  (router re-reads the database "
              "at least once a second)")
        if lua_times:
            print(f"      registry endpoint change, lua:    {summary(lua_times)}  (no reload)")
        print("      one sync at this size: " + ", ".join(f"{k} {v:.1f} ms" for k, v in steps.items()))


def summary(seconds):
    ms = [s * 1000 for s in seconds]
    return f"{statistics.median(ms):7.1f} ms ({min(ms):.1f}-{max(ms):.1f})"


def lua_load_routes(count):
    body = "".join(f"app-{i:04d}.localhost 127.0.0.1:{STATIC_A}\n" for i in range(count))
    lua_post(body)


def lua_post(body):
    connection = http.client.HTTPConnection("127.0.0.1", LUA_ADMIN, timeout=5)
    try:
        connection.request("POST", "/routes", body=body.encode())
        assert connection.getresponse().read() == b"ok\n"
    finally:
        connection.close()


def lua_change(host, count):
    lua_load_routes(count)
    assert get(LUA, host) == (200, "a")
    start = time.monotonic()
    lua_post(f"{host} 127.0.0.1:{STATIC_B}\n")
    wait_for(LUA, host, "b")
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--changes", type=int, default=7)
    parser.add_argument("--apps", type=lambda t: [int(n) for n in t.split(",")], default=[10, 1000])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--no-lua", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    lua = not args.no_lua and all(os.path.exists(m) for m in LUA_MODULES)
    print(f"{load()} at start; lua alternative: "
          f"{'measured' if lua else 'not measured (libnginx-mod-http-lua not installed)'}")
    folders = [runtime_folder("backend"), runtime_folder("pier")]
    static_backend(folders[0])
    flask = serve("bench.baseline:app", FLASK, dict(os.environ))
    pier = Nginx(folders[1], f"127.0.0.1:{PIER}")
    routes = [{"app": "static", "hosts": ["static.localhost"], "endpoints": [f"127.0.0.1:{STATIC_A}"]},
              {"app": "flask", "hosts": ["flask.localhost"], "endpoints": [f"127.0.0.1:{FLASK}"]}]
    try:
        write_files(folders[1], {})
        pier.apply(render([dict(r, maintenance=False) for r in routes], listen=f"127.0.0.1:{PIER}",
                          tls_listen="127.0.0.1:18121", runtime=folders[1]))
        if lua:
            folders.append(lua_router(runtime_folder("lua")))
            lua_post(f"static.localhost 127.0.0.1:{STATIC_A}\n")
            lua_post(f"flask.localhost 127.0.0.1:{FLASK}\n")
        for port in (STATIC_A, PIER) + ((LUA,) if lua else ()):
            assert get(port, "static.localhost") == (200, "a"), port
        if not args.skip_throughput:
            masters = {name: master_pid(folder) for name, folder in zip(("static", "pier", "lua"), folders)}
            masters["flask"] = flask.pid
            targets = [("direct: static nginx", STATIC_A, "x", "/", "static", masters["static"]),
                       ("Pier -> static nginx", PIER, "static.localhost", "/", "static", masters["pier"])]
            if lua:
                targets.append(("lua -> static nginx", LUA, "static.localhost", "/", "static", masters["lua"]))
            targets += [("direct: Flask (gunicorn)", FLASK, "x", "/bare", "flask", masters["flask"]),
                        ("Pier -> Flask", PIER, "flask.localhost", "/bare", "flask", masters["pier"])]
            if lua:
                targets.append(("lua -> Flask", LUA, "flask.localhost", "/bare", "flask", masters["lua"]))
            throughput(args, targets)
        route_changes(args, lua)
    finally:
        pier.stop()
        for folder in folders:
            stop_nginx(folder)
        flask.terminate()
        flask.wait()
        time.sleep(0.5)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{load()} at the end")


if __name__ == "__main__":
    main()
