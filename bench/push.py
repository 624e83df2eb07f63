"""`git push` to served, through the whole platform as `make run` starts it, next to a bare `docker run`.

    scripts/with-env python bench/push.py [--rounds 10] [--megabytes 50]

The platform runs from the Procfile under scripts/supervise with its default drain and timeouts, on its own
database (pier_bench), Redis db and ports. Every round is timed from the start of `git push`:
- served: when the router first answers with the new body (polled every 20 ms);
- push returned: when `git push` exits.
Scenarios, medians over --rounds each:
- buildpack first deploy: examples/python-app (the README's quickstart) pushed to a new app;
- buildpack warm redeploy: one line of its app.py changed;
- dependency change: requirements.txt switches between two versions of `six` (from PyPI), the body says which;
- Node.js warm redeploy: examples/node-app (npm, a build script) with its greeting changed;
- Dockerfile warm redeploy: one file of a Dockerfile app changed;
- the floor: `docker run` of the quickstart's release image, with its command, until it answers.
Each push starts --pause seconds (5) after the one before, once its old container has drained and stopped and
its slug is stored: back to back, a push's deploy waits for the previous one to settle (2 s of drain) and its
build shares the CPU with the previous slug's compression. Where the time went comes from the push's own lines
(the build's and the launch's timings) and the moments they arrived. Then push throughput through Pier's SSH
daemon and OpenSSH's sshd (the baseline).
A benchmark, not a test: it never fails on a figure.
"""
import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP))

import docker  # noqa: E402

from tests.e2e.platform import Platform  # noqa: E402
from tests.e2e.users import User, web_app  # noqa: E402
from tests.support.builder import free_port  # noqa: E402

QUICKSTART = TOP / "examples" / "python-app"
QUICKSTART_BODY = "Hello from a Python app on Pier\n"
PAUSE = 5.0  # seconds before each push (--pause)
NODE_APP = TOP / "examples" / "node-app"
SIX_APP = """import os, six
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("six " + six.__version__).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
"""
SIX_VERSIONS = ("1.16.0", "1.15.0")


class Watch(threading.Thread):
    """Asks the router for `path` of `host` every 20 ms; `seen` is when it first answered 200 with `body`."""

    def __init__(self, port, host, body, path="/", seconds=180):
        super().__init__(daemon=True)
        self.port, self.host, self.body, self.path = port, host, body, path
        self.deadline = time.monotonic() + seconds
        self.seen = None

    def run(self):
        while self.seen is None and time.monotonic() < self.deadline:
            if answer(self.port, self.path, self.host) == self.body:
                self.seen = time.monotonic()
                return
            time.sleep(0.02)


def answer(port, path="/", host=None):
    """The body of a 200 answer on 127.0.0.1:port, or None."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", path, headers={"Host": host} if host else {})
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        connection.close()
        return body if response.status == 200 else None
    except (OSError, http.client.HTTPException):
        return None


class Round:
    """One timed push: when it was served, when it returned, and its lines with the second they arrived."""

    def __init__(self, served, returned, lines):
        self.served, self.returned, self.lines = served, returned, lines

    def at(self, marker):
        return next((t for t, line in self.lines if marker in line), None)

    def parts(self):
        """Seconds by phase: what the lines say (build steps, launch steps) and what lies between them."""
        found = {}
        building, launching, done = self.at("-----> Building"), self.at("-----> Launching"), self.at("Done, ")
        if building is not None:
            found["upload (push to build start)"] = building
        for t, line in self.lines:
            for label, pattern in (("build", r"Build finished in [\d.]+s \((.*)\)"), ("launch", r"Launched \((.*)\)")):
                matched = re.search(pattern, line)
                if matched:
                    for step, seconds in re.findall(r"([\w ]+?) ([\d.]+)s", matched.group(1)):
                        found[f"{label}: {step.strip()}"] = float(seconds)
        if launching is not None and done is not None:
            found["launch: release to done"] = done - launching
        if done is not None:
            found["done to push returned"] = self.returned - done
        return found


def set_pause(seconds):
    global PAUSE
    PAUSE = seconds


def timed_push(user, repo, port, host, body, path="/"):
    time.sleep(PAUSE)  # the push before has settled: its old container stopped, its slug stored
    watch = Watch(port, host, body, path)
    started = time.monotonic()
    watch.start()
    process = subprocess.Popen(["git", "push", "pier", "main"], cwd=repo, env=user.env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = [(time.monotonic() - started, line.rstrip()) for line in process.stdout]
    code = process.wait()
    returned = time.monotonic() - started
    if code != 0:
        raise SystemExit("git push failed:\n" + "\n".join(line for _, line in lines))
    watch.join()
    if watch.seen is None:
        raise SystemExit(f"{host}{path} never answered {body!r}; the push said:\n" +
                         "\n".join(line for _, line in lines))
    return Round(watch.seen - started, returned, lines)


def quickstart(user, name, greeting="Hello"):
    repo = user.home / name
    shutil.copytree(QUICKSTART, repo)
    user.git(repo, "init", "-q", "-b", "main")
    if greeting != "Hello":
        greet(repo, greeting)
    user.commit(repo, {})
    user.ok("create", name, cwd=repo)
    return repo


def greet(repo, greeting):
    """The quickstart's default greeting replaced, so that its page changes."""
    source = (repo / "app.py").read_text()
    (repo / "app.py").write_text(re.sub(r"'GREETING', '[^']*'", f"'GREETING', '{greeting}'", source))


def buildpack_first(user, platform, rounds):
    found = []
    for _ in range(rounds):
        name = f"bench-{uuid.uuid4().hex[:8]}"
        repo = quickstart(user, name)
        found.append(timed_push(user, repo, platform.http_port, platform.host(name), QUICKSTART_BODY))
        user.ok("destroy", "-a", name, "--confirm", name)
    return found


def buildpack_warm(user, platform, rounds):
    name = f"bench-{uuid.uuid4().hex[:8]}"
    repo = quickstart(user, name)
    timed_push(user, repo, platform.http_port, platform.host(name), QUICKSTART_BODY)  # fills the cache
    found = []
    for n in range(rounds):
        greet(repo, f"Hello {n}")
        user.commit(repo, {})
        found.append(timed_push(user, repo, platform.http_port, platform.host(name),
                                f"Hello {n} from a Python app on Pier\n"))
    return name, found


def node_warm(user, platform, rounds):
    """examples/node-app (npm installs ms from the lockfile, a build script renders a page): its greeting changed."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    repo = user.home / name
    shutil.copytree(NODE_APP, repo)
    user.git(repo, "init", "-q", "-b", "main")
    user.commit(repo, {})
    user.ok("create", name, cwd=repo)
    timed_push(user, repo, platform.http_port, platform.host(name), "Hello from a Node.js app on Pier\n")
    found = []
    for n in range(rounds):
        source = (repo / "server.js").read_text()
        (repo / "server.js").write_text(re.sub(r"GREETING \|\| '[^']*'", f"GREETING || 'Hello {n}'", source))
        user.commit(repo, {})
        found.append(timed_push(user, repo, platform.http_port, platform.host(name),
                                f"Hello {n} from a Node.js app on Pier\n"))
    user.ok("destroy", "-a", name, "--confirm", name)
    return found


def dependency_change(user, platform, rounds):
    name = f"bench-{uuid.uuid4().hex[:8]}"
    repo = user.repo(name, {"app.py": SIX_APP, "Procfile": "web: python3 app.py\n",
                            "requirements.txt": f"six=={SIX_VERSIONS[0]}\n"})
    user.ok("create", name, cwd=repo)
    timed_push(user, repo, platform.http_port, platform.host(name), f"six {SIX_VERSIONS[0]}")
    found = []
    for n in range(rounds):
        version = SIX_VERSIONS[(n + 1) % 2]
        user.commit(repo, {"requirements.txt": f"six=={version}\n"})
        found.append(timed_push(user, repo, platform.http_port, platform.host(name), f"six {version}"))
    user.ok("destroy", "-a", name, "--confirm", name)
    return found


def dockerfile_warm(user, platform, rounds):
    name = f"bench-{uuid.uuid4().hex[:8]}"
    repo = user.repo(name, web_app("v0"))
    user.ok("create", name, cwd=repo)
    timed_push(user, repo, platform.http_port, platform.host(name), "v0")
    found = []
    for n in range(rounds):
        user.commit(repo, {"default.txt": f"v{n + 1}"})
        found.append(timed_push(user, repo, platform.http_port, platform.host(name), f"v{n + 1}"))
    user.ok("destroy", "-a", name, "--confirm", name)
    return found


def bare_docker_run(platform_app, rounds):
    """`docker run` of the app's running image with its command, environment and port, until it answers."""
    client = docker.from_env()
    running = client.containers.list(filters={"label": f"io.pier.app={platform_app}"})[0]
    config = running.attrs["Config"]
    environment = dict(entry.split("=", 1) for entry in config["Env"])
    inside = environment.get("PORT", "5000")
    found = []
    for _ in range(rounds):
        port = free_port()
        started = time.monotonic()
        container = client.containers.run(config["Image"], config["Cmd"], entrypoint=config["Entrypoint"],
                                          environment=environment, user=config.get("User") or None,
                                          ports={f"{inside}/tcp": ("127.0.0.1", port)}, detach=True)
        try:
            while answer(port) is None:
                time.sleep(0.02)
            found.append(time.monotonic() - started)
        finally:
            container.remove(force=True)
    return found


def median(values):
    return statistics.median(values) if values else float("nan")


def report(rows, floor):
    print(f"{'':<34}{'served':>9}{'returned':>10}{'returned-served':>17}{'served/floor':>14}")
    for label, found in rows:
        served, returned = median([r.served for r in found]), median([r.returned for r in found])
        gap = median([r.returned - r.served for r in found])
        print(f"{label:<34}{served:>8.2f}s{returned:>9.2f}s{gap:>16.2f}s{served / floor:>13.1f}x")
    print(f"{'bare docker run (the floor)':<34}{floor:>8.2f}s")
    print("\nwhere the time went (medians, seconds):")
    for label, found in rows:
        steps = {}
        for each in found:
            for step, seconds in each.parts().items():
                steps.setdefault(step, []).append(seconds)
        print(f"  {label}: " + ", ".join(f"{step} {median(values):.2f}" for step, values in steps.items()))


def throughput(user, platform, workdir, megabytes, rounds):
    """MiB/s of pushing incompressible data: through Pier's builder (to a branch Pier refuses, so no build),
    and through OpenSSH's sshd into a bare repository."""
    repo = workdir / "data"
    repo.mkdir()
    user.git(repo, "init", "-q", "-b", "main")
    for index in range(megabytes):
        (repo / f"blob-{index}.bin").write_bytes(os.urandom(1024 * 1024))
    user.commit(repo, {})
    port = free_port()
    daemon = openssh_daemon(workdir, user, port)
    pier, openssh = [], []
    try:
        for n in range(rounds):
            name = f"bench-data-{uuid.uuid4().hex[:6]}"
            user.ok("create", name, "--no-remote")
            pier.append(megabytes / timed_transfer(user, repo, user.remote(name)))
            bare = workdir / f"baseline-{n}.git"
            subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
            openssh.append(megabytes / timed_transfer(user, repo, f"ssh://root@127.0.0.1:{port}{bare}"))
            user.ok("destroy", "-a", name, "--confirm", name)
    finally:
        daemon.terminate()
    return pier, openssh


def openssh_daemon(workdir, user, port):
    host_key = workdir / "openssh_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    (workdir / "authorized_keys").write_text(user.public_key + "\n")
    config = workdir / "sshd_config"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {workdir}/sshd.pid\n"
                      f"AuthorizedKeysFile {workdir}/authorized_keys\nPermitRootLogin prohibit-password\n"
                      "PasswordAuthentication no\nStrictModes no\nUsePAM no\n")
    os.makedirs("/run/sshd", exist_ok=True)
    process = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return process


def timed_transfer(user, repo, remote):
    started = time.monotonic()
    subprocess.run(["git", "push", "-q", remote, "main:refused-branch"], cwd=repo, env=user.env(),
                   capture_output=True)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--megabytes", type=int, default=50, help="0 leaves the throughput part out")
    parser.add_argument("--pause", type=float, default=5.0,
                        help="seconds between pushes, so that each starts on a settled platform (0: back to back)")
    args = parser.parse_args()
    set_pause(args.pause)
    with tempfile.TemporaryDirectory(prefix="pier-bench-push-") as scratch:
        workdir = Path(scratch)
        database = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/pier_bench"
        platform = Platform(workdir, database_url=database, redis_url="redis://127.0.0.1:6379/13")
        for default in ("PIER_DRAIN_SECONDS", "PIER_STOP_GRACE_SECONDS", "PIER_DEPLOY_TIMEOUT"):
            platform.env.pop(default)  # as a user gets them
        platform.start()
        try:
            user = User(platform, workdir / "bench", "bench")
            user.register()
            user.ok("keys:add", str(user.key) + ".pub", "--name", "bench")
            first = buildpack_first(user, platform, args.rounds)
            name, warm = buildpack_warm(user, platform, args.rounds)
            floor = median(bare_docker_run(name, args.rounds))
            user.ok("destroy", "-a", name, "--confirm", name)
            dependencies = dependency_change(user, platform, args.rounds)
            node = node_warm(user, platform, args.rounds)
            dockerfile = dockerfile_warm(user, platform, args.rounds)
            transfer = throughput(user, platform, workdir, args.megabytes, 5) if args.megabytes else None
        finally:
            platform.stop()
    print(f"{args.rounds} rounds each, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; medians from the start "
          "of `git push`")
    report([("buildpack first deploy", first), ("buildpack warm redeploy", warm),
            ("dependency change redeploy", dependencies), ("Node.js warm redeploy", node),
            ("Dockerfile warm redeploy", dockerfile)], floor)
    if transfer:
        pier, openssh = transfer
        print(f"\npush of {args.megabytes} MiB: OpenSSH sshd (baseline) {median(openssh):.1f} MiB/s, Pier's builder "
              f"{median(pier):.1f} MiB/s ({median(pier) / median(openssh):.0%} of baseline)")


if __name__ == "__main__":
    main()
