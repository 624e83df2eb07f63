"""Pier's pre-receive hook: archive the pushed commit, build it on a worker, release it, report back.

git runs this inside `git-receive-pack` with the pushed refs on stdin; everything printed here reaches the
`git push` terminal as `remote: …` lines. Exiting non-zero rejects the push and leaves the running release
alone.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import redis
from celery import Celery

from api.settings import Settings
from sshd.controller import Controller, ControllerError
from workers.build.stream import cancel_key, channel
from workers.build.keys import source_key
from workers.storage import StorageError, store_for

DEPLOYED_BRANCHES = ("refs/heads/main", "refs/heads/master")
ZERO = "0" * 40
KEEPALIVE_SECONDS = 10.0
LAUNCH_MARGIN = 60.0


class PushRefused(Exception):
    pass


def say(text=""):
    print(text, flush=True)


def step(text):
    say(f"-----> {text}")


def pushed_commit(lines):
    """The sha to deploy from pre-receive's `old new ref` lines, or PushRefused saying why."""
    wanted = None
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            continue
        _, new, ref = parts
        if ref not in DEPLOYED_BRANCHES:
            raise PushRefused(f"Pier deploys pushes to main or master only; {ref} was not accepted. "
                              "Push with git push pier <branch>:main to deploy another branch.")
        if new == ZERO:
            raise PushRefused(f"Deleting {ref} is not supported: it is what Pier deploys.")
        wanted = new
    if wanted is None:
        raise PushRefused("Nothing to deploy in this push.")
    return wanted


def archive(sha, target):
    # The sha comes from git itself and is checked to be hex before it reaches an argument list.
    if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha):
        raise PushRefused("git sent a malformed commit id")
    subprocess.run(["git", "archive", "--format=tar.gz", "-o", target, sha], check=True,
                   stdout=subprocess.DEVNULL)


def wait_for_build(settings, subscription, build_id):
    """Prints the build's lines as they come; returns its final message."""
    deadline = time.monotonic() + settings.build_timeout + LAUNCH_MARGIN
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        message = subscription.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None:
            if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                say("       ... still building")
                quiet_since = time.monotonic()
            continue
        quiet_since = time.monotonic()
        event = json.loads(message["data"])
        if event.get("done"):
            return event
        say(event.get("line", ""))
    return {"done": True, "ok": False, "error": f"No answer from the build within {settings.build_timeout} s; "
                                                "is a Pier worker running?"}


def app_url(settings, app):
    port = settings.router_listen.rpartition(":")[2]
    return f"http://{app}.{settings.domain}" + ("" if port == "80" else f":{port}")


def deploy(settings, user, app, sha):
    controller = Controller(settings)
    store = store_for(settings)
    with tempfile.TemporaryDirectory(prefix="pier-push-") as scratch:
        tarball = os.path.join(scratch, "source.tar.gz")
        archive(sha, tarball)
        store.put_file(source_key(app, sha), tarball)
    config = controller.config(user, app).get("values", {})
    build_id = uuid.uuid4().hex
    connection = redis.Redis.from_url(settings.redis_url)
    subscription = connection.pubsub()
    subscription.subscribe(channel(build_id))
    signal.signal(signal.SIGTERM, lambda *_: _cancel(connection, build_id))
    celery = Celery("pier-builder", broker=settings.redis_url)
    celery.conf.update(task_serializer="json", broker_connection_retry_on_startup=True)
    celery.send_task("build.app", kwargs={
        "build_id": build_id, "app": app, "sha": sha, "buildpack_url": config.get("BUILDPACK_URL") or "",
        "disable_cache": bool(config.get("DEIS_DISABLE_CACHE"))})
    step(f"Building {app} from {sha[:8]}")
    result = wait_for_build(settings, subscription, build_id)
    subscription.close()
    if not result.get("ok"):
        raise PushRefused(f"Build failed: {result.get('error')}")
    step("Launching App...")
    version = controller.build(user, app, result["image"], sha[:8], result.get("procfile") or {},
                               result.get("dockerfile") or "", timeout=settings.sync_timeout + LAUNCH_MARGIN)
    say(f"       Done, {app}:v{version} deployed to Pier")
    say()
    say(f"       Use 'pier open -a {app}' to view this application in your browser: {app_url(settings, app)}")


def _cancel(connection, build_id):
    connection.set(cancel_key(build_id), "1", ex=3600)
    sys.exit(1)


def main():
    settings = Settings.from_env()
    user, app = os.environ["PIER_PUSH_USER"], os.environ["PIER_PUSH_APP"]
    try:
        sha = pushed_commit(sys.stdin.read().splitlines())
        deploy(settings, user, app, sha)
    except PushRefused as exc:
        step(str(exc))
        return 1
    except ControllerError as exc:
        step(f"The controller refused: {exc}")
        return 1
    except StorageError as exc:
        step(f"Object storage failed: {exc}")
        return 1
    except subprocess.CalledProcessError:
        step("git archive failed: the pushed commit could not be packed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
