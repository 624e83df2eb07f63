"""Destroying an app leaves nothing behind: another user who takes the name reads and reuses nothing of it."""
import uuid

import docker
import requests

from core.extensions import db
from core.logs import LogStore
from core.models import App
from core.services import operations
from core.storage import store_for
from tests.integration.test_builder_buildpacks import PYTHON_APP
from tests.support.builder import Pusher, builder, pusher, served  # noqa: F401 - fixtures
from tests.support.waiting import wait_for
from workers.runners.build import Build

REGISTRY = "http://127.0.0.1:5000/v2"


def registry_tags(name, settings):
    auth = settings.registry_auth()
    answer = requests.get(f"{REGISTRY}/{name}/tags/list", timeout=10, auth=(auth["username"], auth["password"]))
    return [] if answer.status_code == 404 else answer.json().get("tags") or []


def test_a_destroyed_apps_name_taken_by_another_user_inherits_nothing(app, alice, bob, pusher, builder, tmp_path):
    alice.create_app("reborn")
    repo = pusher.repo("reborn", PYTHON_APP)
    code, output = pusher.push(repo, "reborn")
    assert code == 0, output
    settings = app.config["PIER"]
    store = store_for(settings)
    # the slug is stored after the push said it is done (test_a_slug_stored_after_the_destroy_goes_too)
    assert wait_for(lambda: any(k.endswith("/slug.tgz") for k in store.list("apps/reborn")), 30)
    assert registry_tags("reborn", settings)
    LogStore(settings.redis_url).append("reborn", "reborn.v2.web.1", "2026-01-01T00:00:00Z", "alice's secret line")

    response = alice.delete("/v2/apps/reborn")
    assert response.status_code == 204, response.get_json()
    assert store.list("apps/reborn") == []
    assert registry_tags("reborn", settings) == []
    assert docker.from_env().images.list("127.0.0.1:5000/reborn") == []
    assert docker.from_env().containers.list(all=True, filters={"label": "io.pier.app=reborn"}) == []
    assert LogStore(settings.redis_url).tail("reborn", 100)[0] == []
    git_repo = tmp_path.parent / "builder0" / "git" / "reborn.git"
    assert wait_for(lambda: not any(p.name == "reborn.git" for p in (tmp_path.parent).rglob("reborn.git")), 10), \
        f"the builder kept {git_repo}"

    bob.create_app("reborn")
    stranger = Pusher(tmp_path / "bob", builder)
    assert bob.post("/v2/keys", {"id": "bobs", "public": stranger.public_key}).status_code == 201
    code, output = stranger.ssh("git-upload-pack '/reborn.git'")
    assert code == 128 and "has no pushes yet" in output
    assert "alice's secret line" not in (bob.get("/v2/apps/reborn/logs").get_data(as_text=True) or "")
    code, output = stranger.push(stranger.repo("reborn", PYTHON_APP), "reborn")
    assert code == 0, output
    assert "Using cached dependencies" not in output and "Installing dependencies with pip" in output
    assert served(app, "reborn") == "hello from python six 1.16.0"


def test_a_slug_stored_after_the_destroy_goes_too(app, alice, tmp_path):
    """A buildpack build stores its slug once the push said it is done: a destroy may empty the app's storage
    before that. The slug is then removed as soon as it is written, and an app that still exists keeps its own."""
    settings = app.config["PIER"]
    store = store_for(settings)
    slug = tmp_path / "slug"
    slug.mkdir()
    (slug / "secret.txt").write_text("alice's code")
    for name in ("kept", "gone"):
        alice.create_app(name)
    with app.app_context():
        uuids = {a.id: str(a.uuid) for a in db.session.execute(db.select(App)).scalars()}
        # the destroy of "gone" is under way when its slug is written
        operations.add(db.session.get(App, uuid.UUID(uuids["gone"])), None, "destroy")
        db.session.commit()
        for name in ("kept", "gone"):
            workdir = tmp_path / name
            workdir.mkdir()
            Build(settings, None, store, None, name, "f" * 40, workdir, 0.0).store_slug(slug, uuids[name])
        db.session.remove()
    assert store.list("apps/kept") == [f"apps/kept/git-{'f' * 8}/slug.tgz"]
    assert store.list("apps/gone") == []
