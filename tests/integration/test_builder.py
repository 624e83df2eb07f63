"""`git push` over real SSH to the builder: builds on a real worker, images in the real registry, deploys
on the Docker scheduler."""
import time
from pathlib import Path

import pytest

from api.extensions import db
from api.models import App
from tests.support.builder import LiveController, Pusher, free_port, start_builder
from tests.support.docker_apps import APPS, build_images, get, remove_app_containers
from tests.support.recording_scheduler import settings_changed
from workers.endpoints import Endpoints

WEB_FILES = {name: (Path(APPS) / "web" / name).read_text() for name in ("Dockerfile", "server.py")}


@pytest.fixture(scope="module")
def builder(app, worker, tmp_path_factory):
    """The platform with its builder: (ssh port, settings)."""
    client = build_images()
    workdir = tmp_path_factory.mktemp("builder")
    with settings_changed(app, scheduler="docker", deploy_timeout=60.0, drain_seconds=0.0, stop_grace_seconds=2,
                          storage_path=str(workdir / "storage"), build_timeout=600, sync_timeout=120.0):
        controller = LiveController(app)
        port = free_port()
        process = start_builder(app.config["PIER"], controller.url, workdir, port)
        yield port
        process.terminate()
        process.wait(timeout=10)
        controller.stop()
    with app.app_context():
        for app_uuid in db.session.execute(db.select(App.uuid)).scalars():
            remove_app_containers(client, str(app_uuid))
        db.session.remove()


@pytest.fixture
def pusher(builder, alice, tmp_path):
    """alice, with her SSH key added, pushing from tmp_path."""
    user = Pusher(tmp_path / "alice", builder)
    assert alice.post("/v2/keys", {"id": "laptop", "public": user.public_key}).status_code == 201
    return user


def served(app, app_id, path="/"):
    [endpoint] = Endpoints(app.config["PIER"].redis_url).read(app_id)["cmd" if path != "/web" else "web"]
    return get(endpoint, path)


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
