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

from core import jobs, redis_client
from core.build_output import cancel_key, channel
from core.settings import Settings
from core.storage import StorageError, store_for
from core.storage.keys import source_key
from sshd import outcome
from sshd.controller import Controller, ControllerError

DEPLOYED_BRANCHES = ("refs/heads/main", "refs/heads/master")
ZERO = "0" * 40
KEEPALIVE_SECONDS = 10.0
BUILD_SILENCE_SECONDS = 30.0  # six missed heartbeats (core.build_output.ALIVE_SECONDS)
DEPLOY_POLL_SECONDS = 1.0  # the longest wait between two looks at the deploy; its end is published at once
CONTROLLER_RETRY_SECONDS = 30.0  # the controller restarting (its process died) must not fail a push
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
    """Prints the build's lines as they come; returns its final message. A build that started and then goes
    silent (no line, no heartbeat) for BUILD_SILENCE_SECONDS lost its worker: the push fails at once."""
    deadline = time.monotonic() + settings.build_timeout + LAUNCH_MARGIN
    quiet_since = heard = time.monotonic()
    started = False
    while time.monotonic() < deadline:
        message = subscription.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None:
            if started and time.monotonic() - heard >= BUILD_SILENCE_SECONDS:
                return {"done": True, "ok": False, "error": "the build stopped answering (its worker went away); "
                                                            "push again"}
            if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                say("       ... still building" if started else "       ... waiting for a build worker")
                quiet_since = time.monotonic()
            continue
        started, heard = True, time.monotonic()
        event = json.loads(message["data"])
        if event.get("done"):
            return event
        if "line" in event:
            quiet_since = heard
            say(event["line"])
    return {"done": True, "ok": False, "error": f"No answer from the build within {settings.build_timeout} s; "
                                                "is a Pier worker running?"}


def follow_deploy(settings, controller, operation, connection):
    """Follows the deploy's operation until it finishes, or for as long as a deploy may take; returns it. The
    worker publishes the operation's end: the push hears it at once, and asks the controller for the outcome
    (and at least once a second anyway, should the message be missed)."""
    deadline = time.monotonic() + settings.deploy_timeout + LAUNCH_MARGIN
    quiet_since = time.monotonic()
    subscription = connection.pubsub()
    subscription.subscribe(jobs.operation_channel(operation["uuid"]))
    try:
        subscription.get_message(timeout=1.0)  # the subscription's confirmation: from here nothing is missed
        while operation["state"] in ("pending", "running") and time.monotonic() < deadline:
            try:
                operation = controller.operation(operation["uuid"])
            except ControllerError as exc:  # the controller may be restarting: keep following
                say(f"       ... {exc}; still waiting")
            if operation["state"] not in ("pending", "running"):
                break
            if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                say("       ... still deploying")
                quiet_since = time.monotonic()
            subscription.get_message(ignore_subscribe_messages=True, timeout=DEPLOY_POLL_SECONDS)
    finally:
        subscription.close()
    return operation


def launch_timings(operation):
    """Where the launch's time went, as the scheduler said: "start 0.2s, ready 0.3s, routed 0.1s"."""
    spent = (operation.get("result") or {}).get("timings") or {}
    return ", ".join(f"{step} {seconds:.1f}s" for step, seconds in spent.items())


def app_url(settings, app):
    port = settings.router_listen.rpartition(":")[2]
    return f"http://{app}.{settings.domain}" + ("" if port == "80" else f":{port}")


def deploy(settings, user, app, sha):
    controller = Controller(settings, retry_seconds=CONTROLLER_RETRY_SECONDS)
    store = store_for(settings)
    with tempfile.TemporaryDirectory(prefix="pier-push-") as scratch:
        tarball = os.path.join(scratch, "source.tar.gz")
        archive(sha, tarball)
        store.put_file(source_key(app, sha), tarball)
    config = controller.config(user, app).get("values", {})
    build_id = uuid.uuid4().hex
    connection = redis_client.client(settings.redis_url)
    subscription = connection.pubsub()
    subscription.subscribe(channel(build_id))
    signal.signal(signal.SIGTERM, lambda *_: _cancel(connection, build_id))
    jobs.send(settings.redis_url, "build.app", kwargs={
        "build_id": build_id, "app": app, "sha": sha, "buildpack_url": config.get("BUILDPACK_URL") or "",
        "disable_cache": bool(config.get("DEIS_DISABLE_CACHE"))})
    step(f"Building {app} from {sha[:8]}")
    result = wait_for_build(settings, subscription, build_id)
    subscription.close()
    if not result.get("ok"):
        raise PushRefused(f"Build failed: {result.get('error')}")
    step("Launching App...")
    version, operation = controller.build(user, app, result["image"], sha[:8], result.get("procfile") or {},
                                          result.get("dockerfile") or "")
    operation = follow_deploy(settings, controller, operation, connection)
    if operation["state"] == "failed":
        raise PushRefused(f"The release v{version} failed: {operation['error']}")
    if operation["state"] != "succeeded":
        say(f"       {app}:v{version} is still deploying after {settings.deploy_timeout + LAUNCH_MARGIN:.0f} s;"
            " the push is done and the deploy goes on.")
        say(f"       Follow it with 'pier releases -a {app}' and 'pier ps -a {app}'.")
        return
    timings = launch_timings(operation)
    if timings:
        say(f"       Launched ({timings})")
    say(f"       Done, {app}:v{version} deployed to Pier")
    say()
    say(f"       Use 'pier open -a {app}' to view this application in your browser: {app_url(settings, app)}")


def _cancel(connection, build_id):
    connection.set(cancel_key(build_id), "1", ex=3600)
    sys.exit(1)


def main():
    settings = Settings.from_env()
    user, app = os.environ["PIER_PUSH_USER"], os.environ["PIER_PUSH_APP"]
    # for the builder's metrics (sshd/outcome.py): failed until it succeeds, so a crash here counts as failed
    outcome.write(os.environ.get(outcome.VARIABLE), succeeded=False)
    code = push(settings, user, app)
    outcome.write(os.environ.get(outcome.VARIABLE), succeeded=code == 0)
    return code


def push(settings, user, app):
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
