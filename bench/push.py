"""`git push` speed through Pier's builder, next to OpenSSH's own sshd on the same machine (the baseline).

    scripts/with-env python bench/push.py [--rounds 5] [--megabytes 50]

Prints medians of:
- first deploy: `git push` of a new Dockerfile app until its body is served;
- warm redeploy: a one-file change pushed until the new body is served;
- warm redeploy of examples/node-app (a buildpack build: npm dependencies from the build cache, the build
  script, the prune, a new runtime image) until its new page is served;
- push throughput in MiB/s of a repository of incompressible data, through Pier's SSH daemon and through
  OpenSSH's sshd into a plain bare repository. The Pier push goes to a branch that Pier refuses, so what is
  timed is the transfer, `index-pack` and the hook's start, not a build.
It runs the controller (pier_bench database), a Celery worker thread and the builder the way the tests do.
A benchmark, not a test: it never fails on a figure.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP))

from celery.contrib.testing.worker import start_worker  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from api import create_app  # noqa: E402
from core.endpoints import Endpoints  # noqa: E402
from core.extensions import db  # noqa: E402
from core.models import App  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.factories import Caller  # noqa: E402
from tests.support.builder import LiveController, Pusher, free_port, start_builder  # noqa: E402
from tests.support.docker_apps import APPS, get, remove_app_containers  # noqa: E402

WEB = {name: (Path(APPS) / "web" / name).read_text() for name in ("Dockerfile", "server.py")}
NODE_APP = {str(p.relative_to(TOP / "examples" / "node-app")): p.read_text()
            for p in (TOP / "examples" / "node-app").rglob("*") if p.is_file()}


def platform(workdir):
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/pier_bench"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    settings = Settings.from_env(database_url=url, redis_url="redis://127.0.0.1:6379/14", scheduler="docker",
                                 storage_path=str(workdir / "storage"), drain_seconds=0.0, stop_grace_seconds=2)
    flask_app = create_app(settings)
    with flask_app.app_context():
        from flask_migrate import upgrade
        upgrade(directory=str(TOP / "migrations"))
    return flask_app


def served_body(flask_app, app_id, path="/"):
    endpoints = Endpoints(flask_app.config["PIER"].redis_url).read(app_id)
    found = endpoints.get("web") or endpoints.get("cmd") or []
    try:
        return get(found[0], path) if found else None
    except OSError:
        return None


def push_until_served(pusher, repo, flask_app, app_id, body, path="/"):
    started = time.monotonic()
    code, output = pusher.push(repo, app_id)
    if code != 0:
        raise SystemExit(output)
    while served_body(flask_app, app_id, path) != body:
        time.sleep(0.05)
    return time.monotonic() - started


def deploys(flask_app, alice, pusher, rounds):
    first, warm = [], []
    for n in range(rounds):
        app_id = f"bench-{uuid.uuid4().hex[:8]}"
        alice.create_app(app_id)
        repo = pusher.repo(app_id, dict(WEB, **{"default.txt": "v0"}))
        first.append(push_until_served(pusher, repo, flask_app, app_id, "v0"))
        pusher.commit(repo, {"default.txt": f"v{n + 1}"})
        warm.append(push_until_served(pusher, repo, flask_app, app_id, f"v{n + 1}"))
    return first, warm


def node_redeploys(flask_app, alice, pusher, rounds):
    """One first deploy of the Node.js example (untimed: it fills the build cache), then `rounds` page changes."""
    app_id = f"bench-node-{uuid.uuid4().hex[:8]}"
    alice.create_app(app_id)
    repo = pusher.repo(app_id, NODE_APP)
    push_until_served(pusher, repo, flask_app, app_id, "Hello from a Node.js app on Pier\n")
    warm = []
    for n in range(rounds):
        pusher.commit(repo, {"page.md": f"# Version {n + 1}\n"})
        warm.append(push_until_served(pusher, repo, flask_app, app_id, f"<h1>Version {n + 1}</h1>\n", "/page"))
    return warm


def data_repo(pusher, name, megabytes):
    repo = pusher.home / name
    repo.mkdir()
    pusher.git(repo, "init", "-q", "-b", "main")
    for index in range(megabytes):
        (repo / f"blob-{index}.bin").write_bytes(os.urandom(1024 * 1024))
    pusher.git(repo, "add", "-A")
    pusher.git(repo, "commit", "-q", "-m", "data")
    return repo


def openssh_daemon(workdir, pusher, port):
    """OpenSSH's sshd on 127.0.0.1:port, letting pusher's key in as root; returns the process."""
    host_key = workdir / "openssh_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    (workdir / "authorized_keys").write_text(pusher.public_key + "\n")
    config = workdir / "sshd_config"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {workdir}/sshd.pid\n"
                      f"AuthorizedKeysFile {workdir}/authorized_keys\nPermitRootLogin prohibit-password\n"
                      "PasswordAuthentication no\nStrictModes no\nUsePAM no\n")
    os.makedirs("/run/sshd", exist_ok=True)
    process = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return process


def timed_push(pusher, repo, remote):
    started = time.monotonic()
    subprocess.run(["git", "push", "-q", remote, "main:refused-branch"], cwd=repo, env=pusher.env(),
                   capture_output=True)
    return time.monotonic() - started


def throughput(workdir, pusher, builder_port, megabytes, rounds, alice):
    repo = data_repo(pusher, "data", megabytes)
    size = sum(p.stat().st_size for p in repo.glob("blob-*")) / 2 ** 20
    port = free_port()
    daemon = openssh_daemon(workdir, pusher, port)
    pier, openssh = [], []
    try:
        for n in range(rounds):
            app_id = f"bench-data-{n}-{uuid.uuid4().hex[:6]}"
            alice.create_app(app_id)
            pier.append(size / timed_push(pusher, repo, pusher.remote(app_id)))
            bare = workdir / f"baseline-{n}.git"
            subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
            openssh.append(size / timed_push(pusher, repo, f"ssh://root@127.0.0.1:{port}{bare}"))
    finally:
        daemon.terminate()
    return size, pier, openssh


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pier-bench-push-") as scratch:
        workdir = Path(scratch)
        flask_app = platform(workdir)
        celery = flask_app.extensions["celery"]
        controller = LiveController(flask_app)
        port = free_port()
        sshd = start_builder(flask_app.config["PIER"], controller.url, workdir, port)
        client = flask_app.test_client()
        alice = Caller.create(flask_app, client, "alice", True)
        pusher = Pusher(workdir / "alice", port)
        alice.post("/v2/keys", {"id": "bench", "public": pusher.public_key})
        try:
            with start_worker(celery, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"):
                first, warm = deploys(flask_app, alice, pusher, args.rounds)
                node_warm = node_redeploys(flask_app, alice, pusher, args.rounds)
                size, pier, openssh = throughput(workdir, pusher, port, args.megabytes, args.rounds, alice)
        finally:
            sshd.terminate()
            controller.stop()
            with flask_app.app_context():
                import docker
                docker_client = docker.from_env()
                for app_uuid in db.session.execute(db.select(App.uuid)).scalars():
                    remove_app_containers(docker_client, str(app_uuid))
    print(f"{args.rounds} rounds, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, medians")
    print(f"{'first deploy: git push to new body served':<50}{statistics.median(first):>8.2f} s")
    print(f"{'warm redeploy: git push to new body served':<50}{statistics.median(warm):>8.2f} s")
    print(f"{'Node.js example warm redeploy (buildpack)':<50}{statistics.median(node_warm):>8.2f} s")
    print(f"{f'push of {size:.0f} MiB through OpenSSH sshd (baseline)':<50}{statistics.median(openssh):>8.1f} MiB/s")
    ratio = statistics.median(pier) / statistics.median(openssh)
    print(f"{f'push of {size:.0f} MiB through Pier builder':<50}{statistics.median(pier):>8.1f} MiB/s"
          f"  ({ratio:.0%} of baseline)")


if __name__ == "__main__":
    main()
