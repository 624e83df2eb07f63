"""`git push` over real SSH to the builder: builds on a real worker, images in the real registry, deploys
on the Docker scheduler."""
import os
import signal
import time
from pathlib import Path

import docker

from tests.support.builder import Pusher, builder, free_port, pusher, served, start_builder  # noqa: F401
from tests.support.docker_apps import APPS
from tests.support.recording_scheduler import settings_changed
from tests.support.waiting import wait_for

WEB_FILES = {name: (Path(APPS) / "web" / name).read_text() for name in ("Dockerfile", "server.py")}


def web_app(message, **extra):
    return dict(WEB_FILES, **{"default.txt": message}, **extra)


def test_a_dockerfile_app_is_built_released_and_served_and_a_second_push_changes_it(app, alice, pusher):
    alice.create_app("pushed")
    repo = pusher.repo("pushed", web_app("first"))
    code, output = pusher.push(repo, "pushed")
    assert code == 0, output
    assert "Done, pushed:v2 deployed to Pier" in output
    assert "http://pushed." in output
    assert served(app, "pushed") == "first"

    pusher.commit(repo, {"default.txt": "second"})
    code, output = pusher.push(repo, "pushed")
    assert code == 0, output
    assert "Done, pushed:v3 deployed to Pier" in output
    assert served(app, "pushed") == "second"
    releases = alice.get("/v2/apps/pushed/releases").get_json()["results"]
    assert releases[0]["summary"].startswith("alice deployed ")
    build = alice.get("/v2/apps/pushed/builds").get_json()["results"][0]
    assert build["image"].startswith("127.0.0.1:5000/pushed:git-")


def test_a_push_returns_once_live_while_the_old_container_still_drains(app, alice, pusher):
    alice.create_app("brisk")
    repo = pusher.repo("brisk", web_app("first"))
    assert pusher.push(repo, "brisk")[0] == 0
    client = docker.from_env()
    uuid = alice.get("/v2/apps/brisk").get_json()["uuid"]

    def running(release):
        return client.containers.list(filters={"label": [f"io.pier.app-uuid={uuid}", f"io.pier.release={release}"]})

    pusher.commit(repo, {"default.txt": "second"})
    with settings_changed(app, drain_seconds=6.0):
        code, output = pusher.push(repo, "brisk")
        assert code == 0, output
        assert served(app, "brisk") == "second"
        assert running("v2"), "the push waited for the old container to drain and stop"
        assert wait_for(lambda: not running("v2"), 30), "the old container was never stopped"
    assert running("v3")


def releases_of(caller, app_id):
    return [r["version"] for r in caller.get(f"/v2/apps/{app_id}/releases").get_json()["results"]]


def test_an_unknown_key_is_told_to_run_keys_add(builder, alice, tmp_path):
    alice.create_app("nokey")
    # ssh's default log level, as a user runs git push: the builder's message may come as an SSH banner
    stranger = Pusher(tmp_path / "stranger", builder, log_level="INFO")
    repo = stranger.repo("nokey", web_app("x"))
    code, output = stranger.push(repo, "nokey")
    assert code == 128
    assert f"Your SSH key ({stranger.fingerprint()}) is not known to Pier" in output and "pier keys:add" in output


def test_a_user_without_access_is_told_so(builder, alice, bob, tmp_path):
    alice.create_app("private")
    intruder = Pusher(tmp_path / "bob", builder)
    assert bob.post("/v2/keys", {"id": "bob", "public": intruder.public_key}).status_code == 201
    code, output = intruder.push(intruder.repo("private", web_app("x")), "private")
    assert code == 128
    assert "user bob has no access to app private" in output
    code, output = intruder.push(intruder.repo("missing", web_app("x")), "no-such-app")
    assert code == 128 and "user bob has no access to app no-such-app" in output


def test_only_git_commands_on_app_repositories_are_served(pusher):
    for command in ("ls /", "git-receive-pack '../../etc.git'", "git-receive-pack 'a/b.git'", "bash -i"):
        code, output = pusher.ssh(command)
        assert code == 128, (command, output)
        assert "only serves git push and git clone" in output or "not a Pier repository" in output


def test_a_push_to_another_branch_is_refused(alice, pusher):
    alice.create_app("branchy")
    repo = pusher.repo("branchy", web_app("x"))
    code, output = pusher.push(repo, "branchy", refspec="main:feature")
    assert code != 0
    assert "Pier deploys pushes to main or master only; refs/heads/feature" in output
    assert releases_of(alice, "branchy") == [1]


def test_a_bad_dockerfile_fails_the_push_and_the_running_release_keeps_serving(app, alice, pusher):
    alice.create_app("sturdy")
    repo = pusher.repo("sturdy", web_app("good"))
    assert pusher.push(repo, "sturdy")[0] == 0
    pusher.commit(repo, {"Dockerfile": WEB_FILES["Dockerfile"] + "BOGUS nonsense\n", "default.txt": "bad"})
    code, output = pusher.push(repo, "sturdy")
    assert code != 0
    assert "unknown instruction: bogus" in output.lower()
    assert "Build failed" in output
    assert releases_of(alice, "sturdy") == [2, 1]
    assert served(app, "sturdy") == "good"
    # the rejected push did not move the branch: the same commit fixed pushes fine
    pusher.commit(repo, {"Dockerfile": WEB_FILES["Dockerfile"]})
    assert pusher.push(repo, "sturdy")[0] == 0
    assert served(app, "sturdy") == "bad"


def slow_app(message, seconds=8):
    # the message in the RUN line defeats Docker's build cache, so every build takes `seconds`
    dockerfile = WEB_FILES["Dockerfile"].replace("EXPOSE", f"RUN echo {message} && sleep {seconds}\nEXPOSE")
    return web_app(message, Dockerfile=dockerfile)


def test_a_second_concurrent_push_is_refused_and_the_first_completes(app, alice, pusher):
    alice.create_app("busy")
    lock = redis_client(app)
    repo = pusher.repo("busy", slow_app(f"busy-{time.time()}"))
    first = pusher.push(repo, "busy", background=True)
    assert wait_for(lambda: lock.exists("pier:push-lock:busy"))
    other = pusher.repo("busy-other", web_app("other"))
    code, output = pusher.push(other, "busy", refspec="main")
    assert code == 128
    assert "Another git push is ongoing" in output
    output, _ = first.communicate(timeout=600)
    assert first.returncode == 0, output
    assert not lock.exists("pier:push-lock:busy")


def test_pushes_to_two_apps_run_in_parallel(app, alice, pusher):
    for name in ("twin-a", "twin-b"):
        alice.create_app(name)
    stamp = time.time()
    started = time.monotonic()
    pushes = [pusher.push(pusher.repo(name, slow_app(f"{name}-{stamp}", seconds=6)), name, background=True)
              for name in ("twin-a", "twin-b")]
    for push in pushes:
        output, _ = push.communicate(timeout=600)
        assert push.returncode == 0, output
    assert served(app, "twin-a").startswith("twin-a") and served(app, "twin-b").startswith("twin-b")
    # each build sleeps 6 s: serialized they would take 12 s or more
    assert time.monotonic() - started < 12 + 10


def test_a_client_that_goes_away_frees_the_app_and_cancels_its_build(app, alice, pusher):
    alice.create_app("leaver")
    lock = redis_client(app)
    repo = pusher.repo("leaver", slow_app(f"leaver-{time.time()}", seconds=15))
    abandoned = pusher.git(repo, "rev-parse", "HEAD").stdout.strip()[:8]
    push = pusher.push(repo, "leaver", background=True)
    assert wait_for(lambda: lock.exists("pier:push-lock:leaver"))
    time.sleep(2)  # into the build's silent 15 s step
    os.killpg(push.pid, signal.SIGKILL)  # git and its ssh: the connection drops as when a laptop closes
    push.communicate()
    left = time.monotonic()
    assert wait_for(lambda: not lock.exists("pier:push-lock:leaver"), seconds=30)
    code, output = pusher.push(pusher.repo("leaver-2", web_app("after")), "leaver", refspec="+main")
    assert code == 0, output
    assert served(app, "leaver") == "after"
    time.sleep(max(0.0, left + 17 - time.monotonic()))  # past the end of the abandoned build's sleep
    tags = [t for image in docker.from_env().images.list("127.0.0.1:5000/leaver") for t in image.tags]
    assert f"127.0.0.1:5000/leaver:git-{abandoned}" not in tags, "the abandoned build ran to the end"


def test_an_authorized_user_can_clone_what_was_pushed(alice, pusher):
    alice.create_app("cloned")
    code, output = pusher.ssh("git-upload-pack '/cloned.git'")
    assert code == 128 and "has no pushes yet" in output
    assert pusher.push(pusher.repo("cloned", web_app("cloned body")), "cloned")[0] == 0
    done = pusher.git(pusher.home, "clone", "-q", pusher.remote("cloned"), "copy")
    assert done.returncode == 0, done.stderr
    assert (pusher.home / "copy" / "default.txt").read_text() == "cloned body"


def redis_client(app):
    import redis
    return redis.Redis.from_url(app.config["PIER"].redis_url)


def test_a_build_over_the_time_limit_fails_clearly(app, alice, pusher):
    alice.create_app("slowpoke")
    repo = pusher.repo("slowpoke", slow_app(f"slowpoke-{time.time()}", seconds=60))
    with settings_changed(app, build_timeout=5):
        code, output = pusher.push(repo, "slowpoke")
    assert code != 0
    assert "Build took longer than PIER_BUILD_TIMEOUT (5 s)" in output
    assert releases_of(alice, "slowpoke") == [1]


def test_config_reaches_docker_build_as_build_args_when_the_app_opts_in(app, alice, pusher):
    alice.create_app("argued")
    values = {"DEIS_DOCKER_BUILD_ARGS_ENABLED": "1", "GREETING": "built with args"}
    assert alice.post("/v2/apps/argued/config", {"values": values}).status_code == 201
    dockerfile = WEB_FILES["Dockerfile"].replace("EXPOSE", "ARG GREETING\nRUN echo \"$GREETING\" > /app/default.txt\nEXPOSE")
    code, output = pusher.push(pusher.repo("argued", web_app("unused", Dockerfile=dockerfile)), "argued")
    assert code == 0, output
    assert served(app, "argued") == "built with args"


def test_a_push_with_a_link_out_of_the_tree_is_refused(alice, pusher):
    alice.create_app("linky")
    repo = pusher.repo("linky", web_app("x"))
    (repo / "passwd").symlink_to("/etc/passwd")
    pusher.commit(repo, {})
    code, output = pusher.push(repo, "linky")
    assert code != 0
    assert "The pushed source was refused" in output and "passwd" in output
    assert releases_of(alice, "linky") == [1]


def test_a_controller_that_cannot_be_reached_is_named_not_a_bare_permission_denied(app, tmp_path):
    port = free_port()
    process = start_builder(app.config["PIER"], "http://127.0.0.1:9", tmp_path, port)
    try:
        user = Pusher(tmp_path / "someone", port)
        code, output = user.push(user.repo("x", web_app("x")), "someapp")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert code == 128
    assert "could not check your key" in output and "http://127.0.0.1:9" in output
