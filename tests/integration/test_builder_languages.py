"""`git push` of Node.js, Go and .buildpacks apps through the real builder, worker, registry and Docker engine,
each curled through the router's nginx; redeploys reuse the dependency cache, and bad pushes are refused
while the old release keeps serving."""
import pytest

from router.sync import sync_once
from tests.integration.test_buildpacks import STACK
from tests.integration.test_buildpacks_node_go import MULTI_APP, example
from tests.integration.test_router import fetch, router  # noqa: F401 - fixture
from tests.support.builder import builder, pusher  # noqa: F401 - fixtures
from tests.support.recording_scheduler import settings_changed


@pytest.fixture(scope="module", autouse=True)
def stack(app):
    """The stack under test (PIER_STACK_IMAGE when set), for the builds the worker runs."""
    with settings_changed(app, stack_image=STACK):
        yield


class Deployed:
    """An app pushed by alice and curled through the router."""

    def __init__(self, app, alice, pusher, router, name, files):
        self.app, self.alice, self.pusher, self.name = app, alice, pusher, name
        _, self.nginx, self.port, _ = router
        alice.create_app(name)
        self.repo = pusher.repo(name, files)

    def push(self, files=None):
        if files:
            self.pusher.commit(self.repo, files)
        return self.pusher.push(self.repo, self.name)

    def get(self, path="/"):
        sync_once(self.app, self.nginx)
        return fetch(self.port, f"{self.name}.localhost", path)

    def releases(self):
        return [r["version"] for r in self.alice.get(f"/v2/apps/{self.name}/releases").get_json()["results"]]

    def refused(self, files, *messages):
        """Pushes `files` on top of the last good commit: the push fails with `messages`, nothing is released,
        and the commit is dropped again so the next change starts from the good one."""
        before = self.releases()
        code, output = self.push(files)
        assert code != 0, output
        for message in messages:
            assert message in output, output
        assert self.releases() == before
        self.pusher.git(self.repo, "reset", "-q", "--hard", "HEAD~1")
        return output


def test_the_node_example_is_routed_and_redeploys_from_its_cache(app, alice, pusher, router):
    node = Deployed(app, alice, pusher, router, "lang-node", example("node-app"))
    code, output = node.push()
    assert code == 0, output
    assert "Node.js app detected" in output
    assert "Installing dependencies with npm ci" in output
    assert "Running build (npm run build)" in output
    assert "Pruned devDependencies: 1 of 2 installed packages removed" in output
    assert "Done, lang-node:v2 deployed to Pier" in output
    assert node.get("/") == (200, "Hello from a Node.js app on Pier\n")
    assert node.get("/deps") == (200, "ms says 90000 ms is 2m; marked pruned: yes\n")
    assert node.get("/page")[1].startswith("<h1>Built on Pier</h1>")

    code, output = node.push({"page.md": "# Pushed again\n"})
    assert code == 0, output
    assert "Using cached node_modules (package.json package-lock.json unchanged)" in output
    assert "Installing dependencies" not in output
    assert node.get("/page") == (200, "<h1>Pushed again</h1>\n")


def test_bad_node_pushes_are_refused_and_the_old_release_keeps_serving(app, alice, pusher, router):
    node = Deployed(app, alice, pusher, router, "lang-sturdy", example("node-app"))
    code, output = node.push()
    assert code == 0, output
    node.refused({"package.json": '{"name": "broken",'}, "package.json is not valid JSON", "Build failed")
    assert node.get("/page")[1].startswith("<h1>Built on Pier</h1>")
    engines = example("node-app")["package.json"].replace('">=18"', '">=99"')
    node.refused({"package.json": engines}, 'package.json asks for Node.js ">=99" (engines.node), and this stack '
                                            "has Node.js ")
    node.refused({".buildpacks": "nodejs\nhttps://127.0.0.1:9/nope.git\n"},
                 "Could not fetch buildpack https://127.0.0.1:9/nope.git (.buildpacks line 2)")
    assert node.releases() == [2, 1]
    assert node.get("/page")[1].startswith("<h1>Built on Pier</h1>")


def test_the_go_example_is_routed_redeploys_from_its_cache_and_survives_a_compile_error(app, alice, pusher, router):
    go = Deployed(app, alice, pusher, router, "lang-go", example("go-app"))
    code, output = go.push()
    assert code == 0, output
    assert "Go app detected" in output and "No module requirements: standard library only" in output
    assert "Done, lang-go:v2 deployed to Pier" in output
    assert go.get("/") == (200, "Hello from a Go app on Pier\n")

    main = example("go-app")["main.go"].replace('greeting = "Hello"', 'greeting = "Howdy"')
    code, output = go.push({"main.go": main})
    assert code == 0, output
    assert "reusing the build cache of the previous build" in output
    assert go.get("/") == (200, "Howdy from a Go app on Pier\n")

    broken = main.replace("server.Shutdown(context.Background())", "server.Shutdown(ctx)")
    output = go.refused({"main.go": broken}, "undefined: ctx", "The Go build failed (the compiler's errors are above)")
    assert "main.go:" in output
    assert go.get("/") == (200, "Howdy from a Go app on Pier\n")


def test_a_dot_buildpacks_app_builds_assets_with_node_and_serves_them_with_python(app, alice, pusher, router):
    multi = Deployed(app, alice, pusher, router, "lang-multi", MULTI_APP)
    code, output = multi.push()
    assert code == 0, output
    assert "Node.js app detected (buildpack 1 of 2" in output and "Python app detected (buildpack 2 of 2" in output
    assert multi.get("/") == (200, "<h1>Assets by Node</h1>\n")

    build_js = MULTI_APP["build.js"].replace("# Assets by Node", "# Rebuilt by Node")
    code, output = multi.push({"build.js": build_js})
    assert code == 0, output
    assert "Using cached node_modules (package.json unchanged)" in output
    assert "Using cached dependencies (requirements.txt unchanged)" in output
    assert multi.get("/") == (200, "<h1>Rebuilt by Node</h1>\n")
