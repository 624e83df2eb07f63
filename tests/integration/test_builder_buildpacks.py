"""`git push` of apps without a Dockerfile: Heroku buildpacks in the stack image, slugs and build caches in
object storage, runtime images in the registry."""
import tarfile

import docker

from core.storage import store_for
from core.storage.keys import slug_key
from tests.support.waiting import wait_for
from workers.runners.build import cache_folder
from tests.support.builder import builder, pusher, served  # noqa: F401 - fixtures

SERVER = """import os, six
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = (open("message.txt").read().strip() + " six " + six.__version__).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
"""

PYTHON_APP = {"requirements.txt": "six==1.16.0\n", "server.py": SERVER, "Procfile": "web: python3 server.py\n",
              "message.txt": "hello from python"}


def test_a_python_app_builds_with_the_buildpack_and_reuses_its_dependency_cache(app, alice, pusher, tmp_path):
    alice.create_app("snake")
    repo = pusher.repo("snake", PYTHON_APP)
    code, output = pusher.push(repo, "snake")
    assert code == 0, output
    assert "Python app detected" in output
    assert "Installing dependencies with pip" in output
    assert "Done, snake:v2 deployed to Pier" in output
    assert served(app, "snake", "/") == "hello from python six 1.16.0"
    store = store_for(app.config["PIER"])
    sha = pusher.git(repo, "rev-parse", "HEAD").stdout.strip()
    assert wait_for(lambda: store.exists(slug_key("snake", sha)), 30), "the slug was never stored"
    snake = alice.get("/v2/apps/snake").get_json()["uuid"]
    assert (cache_folder(app.config["PIER"], snake) / "venv").is_dir(), "no dependency cache kept on the worker"
    assert not store.list("apps/snake/cache"), "the cache is not copied to object storage any more"

    pusher.commit(repo, {"message.txt": "second push"})
    code, output = pusher.push(repo, "snake")
    assert code == 0, output
    assert "Using cached dependencies (requirements.txt unchanged)" in output
    assert "Installing dependencies with pip" not in output
    assert "Reusing the dependency layer (.venv unchanged)" in output
    assert served(app, "snake", "/") == "second push six 1.16.0"
    second = pusher.git(repo, "rev-parse", "HEAD").stdout.strip()
    assert wait_for(lambda: store.exists(slug_key("snake", second)), 30), "the second slug was never stored"
    slug = slug_files(store, slug_key("snake", second), tmp_path / "slug.tgz")
    assert slug["message.txt"] == b"second push", "the slug lacks the new application files"
    assert any(name.startswith(".venv/lib/") and name.endswith("/six.py") for name in slug), \
        "the slug lacks the dependencies its part should hold"
    v2, v3 = layers(alice, "snake", 2), layers(alice, "snake", 3)
    assert len(v2) == len(v3) and v2[:-1] == v3[:-1], "unchanged dependencies made a new dependency layer"
    assert v2[-1] != v3[-1], "the changed application made no new layer"

    pusher.commit(repo, {"requirements.txt": "six==1.15.0\n"})
    code, output = pusher.push(repo, "snake")
    assert code == 0, output
    assert "Installing dependencies with pip" in output and "Reusing the dependency layer" not in output
    assert served(app, "snake", "/") == "second push six 1.15.0"
    assert layers(alice, "snake", 4)[-2] != v3[-2], "a dependency change kept the old dependency layer"

    assert alice.post("/v2/apps/snake/config", {"values": {"DEIS_DISABLE_CACHE": "1"}}).status_code == 201
    pusher.commit(repo, {"message.txt": "third push"})
    code, output = pusher.push(repo, "snake")
    assert code == 0, output
    assert "Using cached dependencies" not in output


def slug_files(store, key, path):
    """{name: contents (None for a folder or link)} of a stored slug.tgz, read as one tarball."""
    store.get_file(key, path)
    with tarfile.open(path, "r:gz") as tar:
        return {member.name: tar.extractfile(member).read() if member.isreg() else None for member in tar}


def layers(caller, app_id, version):
    """The layer digests of the image release v<version> of the app runs, in the engine."""
    release = caller.get(f"/v2/apps/{app_id}/releases/v{version}").get_json()
    image = caller.get(f"/v2/apps/{app_id}/builds").get_json()["results"]
    [build] = [b for b in image if b["uuid"] == release["build"]]
    return docker.from_env().images.get(build["image"]).attrs["RootFS"]["Layers"]


def test_a_failing_buildpack_fails_the_push_and_keeps_the_running_release(app, alice, pusher):
    alice.create_app("fragile")
    repo = pusher.repo("fragile", PYTHON_APP)
    assert pusher.push(repo, "fragile")[0] == 0
    pusher.commit(repo, {"requirements.txt": "no-such-package-pier-test==0.0.1\n", "message.txt": "broken"})
    code, output = pusher.push(repo, "fragile")
    assert code != 0
    assert "no-such-package-pier-test" in output and "Build failed" in output
    assert [r["version"] for r in alice.get("/v2/apps/fragile/releases").get_json()["results"]] == [2, 1]
    assert served(app, "fragile", "/") == "hello from python six 1.16.0"


def test_a_buildpack_url_that_cannot_be_fetched_fails_clearly(alice, pusher):
    alice.create_app("custom")
    body = {"values": {"BUILDPACK_URL": "https://127.0.0.1:9/nope.git"}}
    assert alice.post("/v2/apps/custom/config", body).status_code == 201
    code, output = pusher.push(pusher.repo("custom", PYTHON_APP), "custom")
    assert code != 0
    assert "Could not fetch buildpack https://127.0.0.1:9/nope.git" in output


def test_an_app_without_process_types_is_told_to_add_a_procfile(alice, pusher):
    alice.create_app("noprocs")
    files = {k: v for k, v in PYTHON_APP.items() if k != "Procfile"}
    code, output = pusher.push(pusher.repo("noprocs", files), "noprocs")
    assert code != 0
    assert "No process types: add a Procfile" in output


def test_a_static_site_is_served(app, alice, pusher):
    alice.create_app("site")
    code, output = pusher.push(pusher.repo("site", {"index.html": "<h1>static site</h1>\n"}), "site")
    assert code == 0, output
    assert "Static HTML app detected" in output
    assert served(app, "site", "/") == "<h1>static site</h1>\n"
