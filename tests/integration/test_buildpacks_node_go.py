"""The stack's Node.js and Go buildpacks and .buildpacks lists, on the real Docker engine, driven as the build
worker drives them (see test_buildpacks.py). Node.js builds install from the npm registry; Go builds have no
module proxy, which is what the standard-library and vendored cases are for."""
import io
import json
import re
import tarfile
import time
from pathlib import Path

import pytest

from tests.integration.test_buildpacks import (STACK, CUSTOM_BUILDPACK, Containers, build,  # noqa: F401
                                               containers, docker_client, fetch, network, output_of, run)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name):
    return {str(p.relative_to(EXAMPLES / name)): p.read_text()
            for p in sorted((EXAMPLES / name).rglob("*")) if p.is_file()}


def serve(containers, slug, command):
    """Runs the slug's web command with PORT set; returns the host port it is published on."""
    server = run(containers, slug, command, environment={"PORT": "5000"}, ports={"5000/tcp": ("127.0.0.1", None)})
    server.reload()
    return server.ports["5000/tcp"][0]["HostPort"]


def slug_names(slug):
    with tarfile.open(fileobj=io.BytesIO(slug)) as tar:
        return set(tar.getnames())


@pytest.fixture(scope="module")
def stack_versions(docker_client):
    out = docker_client.containers.run(STACK, ["bash", "-c", "node --version; go env GOVERSION"], remove=True)
    node, go = out.decode().split()
    return node.lstrip("v"), go.removeprefix("go")


@pytest.fixture(scope="module")
def first_node_build(docker_client):
    made = Containers(docker_client)
    try:
        result = build(made, example("node-app"))
    finally:
        made.remove()
    assert result.exit_code == 0, result.output
    return result


# --- Node.js ---------------------------------------------------------------------------------------------------

def test_the_node_example_installs_from_its_lockfile_builds_prunes_and_starts(containers, first_node_build,
                                                                             stack_versions):
    output = first_node_build.output
    assert "-----> Node.js app detected" in output
    assert f"-----> Using the stack's Node.js {stack_versions[0]} (engines.node \">=18\")" in output
    assert "-----> Installing dependencies with npm ci\n" in output
    assert "       added 2 packages" in output
    assert "-----> Running build (npm run build)" in output and "rendered page.md to public/index.html" in output
    pruned = "-----> Pruned devDependencies: 1 of 2 installed packages removed"
    assert output.index("Running build") < output.index(pruned)
    assert first_node_build.release == {"addons": [], "default_process_types": {"web": "npm start"}}
    names = slug_names(first_node_build.slug)
    assert "app/node_modules/ms/package.json" in names
    assert not any(n.startswith("app/node_modules/marked") for n in names), "the devDependency was not pruned"
    assert not any(n.startswith(("app/.npm", "app/.cache")) for n in names), "npm's cache went into the slug"
    port = serve(containers, first_node_build.slug, "npm start")
    assert fetch(port, "/deps")[2] == "ms says 90000 ms is 2m; marked pruned: yes\n"
    assert fetch(port, "/page")[2] == "<h1>Built on Pier</h1>\n<p>This page was rendered by the app&#39;s " \
                                      "<em>build script</em>.</p>\n"
    assert output_of(containers, first_node_build.slug, "echo $NODE_ENV; command -v node") == \
        "production\n/usr/bin/node"


def test_an_unchanged_lockfile_reuses_the_cached_node_modules_and_still_builds_and_prunes(containers,
                                                                                        first_node_build):
    second = build(containers, example("node-app"), cache=first_node_build.cache)
    assert second.exit_code == 0, second.output
    assert "-----> Using cached node_modules (package.json package-lock.json unchanged)" in second.output
    assert "Installing dependencies" not in second.output
    assert "rendered page.md to public/index.html" in second.output
    assert "-----> Pruned devDependencies: 1 of 2 installed packages removed" in second.output
    assert not any(n.startswith("app/node_modules/marked") for n in slug_names(second.slug))
    port = serve(containers, second.slug, "npm start")
    assert fetch(port, "/deps")[2] == "ms says 90000 ms is 2m; marked pruned: yes\n"


def test_a_changed_lockfile_installs_again_with_npms_cache(containers, first_node_build):
    files = example("node-app")
    lock = json.loads(files["package-lock.json"])
    lock["packages"][""]["description"] = "changed"  # a lockfile change that npm ci still accepts
    files["package-lock.json"] = json.dumps(lock, indent=2)
    second = build(containers, files, cache=first_node_build.cache)
    assert second.exit_code == 0, second.output
    assert "-----> Installing dependencies with npm ci (npm cache from the previous build)" in second.output
    assert "Using cached node_modules" not in second.output


def test_deis_disable_cache_installs_afresh_and_keeps_no_cache(containers, first_node_build):
    second = build(containers, example("node-app"), env={"DEIS_DISABLE_CACHE": "1"}, cache=first_node_build.cache)
    assert second.exit_code == 0, second.output
    assert "-----> Cache disabled (DEIS_DISABLE_CACHE)" in second.output
    assert "-----> Installing dependencies with npm ci\n" in second.output
    assert not any(n.startswith(("cache/node/", "cache/npm/_cacache")) for n in slug_names(second.cache))


def test_an_app_with_its_own_install_script_is_installed_anew_each_build(containers):
    files = {"package.json": json.dumps({"name": "own", "scripts": {"postinstall": "echo made > made.txt"}})}
    first = build(containers, files)
    assert first.exit_code == 0, first.output
    second = build(containers, files, cache=first.cache)
    assert second.exit_code == 0, second.output
    assert "-----> package.json has a postinstall script, so npm installs node_modules anew" in second.output
    assert "Using cached node_modules" not in second.output
    assert "app/made.txt" in slug_names(second.slug)


def test_heroku_postbuild_runs_instead_of_build_and_sees_config(containers):
    files = {"package.json": json.dumps({"name": "post", "scripts": {
        "heroku-prebuild": "echo prebuild sees $GREETING", "build": "echo plain build",
        "heroku-postbuild": "echo postbuild in $NODE_ENV"}}),
        "server.js": "require('http').createServer((q, r) => r.end('hi')).listen(process.env.PORT)\n"}
    result = build(containers, files, env={"GREETING": "bonjour"})
    assert result.exit_code == 0, result.output
    assert "prebuild sees bonjour" in result.output
    assert "-----> Installing dependencies with npm install" in result.output  # no lockfile
    assert "postbuild in production" in result.output and "plain build" not in result.output
    assert result.release["default_process_types"] == {"web": "npm start"}  # server.js: npm start runs it


def test_without_a_start_script_or_server_js_there_is_no_default_web(containers):
    result = build(containers, {"package.json": '{"name": "lib"}'})
    assert result.exit_code == 0, result.output
    assert result.release["default_process_types"] == {}


@pytest.mark.parametrize("text, message", [
    ('{"name": "broken",\n  "scripts": {"start": "node server.js",}\n}',
     " !     package.json is not valid JSON: Unexpected token } in JSON at position 59 (line 2, column 41)"),
    ('["an", "array"]', " !     package.json must hold a JSON object"),
    ('{"scripts": {"build": 3}}', ' !     package.json\'s script "build" must be a string'),
])
def test_an_unusable_package_json_fails_with_what_to_fix(containers, text, message):
    result = build(containers, {"package.json": text})
    assert result.exit_code == 1
    assert message in result.output
    assert result.last_line == "-----> Build failed: the Node.js buildpack's compile step exited 1"


def test_an_engines_node_the_stack_cannot_meet_fails_and_says_what_it_has(containers, stack_versions):
    node = stack_versions[0]
    result = build(containers, {"package.json": json.dumps({"engines": {"node": ">=99"}})})
    assert result.exit_code == 1
    assert (f' !     package.json asks for Node.js ">=99" (engines.node), and this stack has Node.js {node} only: '
            f'change engines.node to a range {node} meets, such as "{node.split(".")[0]}.x", or set BUILDPACK_URL '
            "to a buildpack that installs Node.js") in result.output
    assert "Installing dependencies" not in result.output


def test_an_engines_node_that_is_not_a_range_fails(containers):
    result = build(containers, {"package.json": json.dumps({"engines": {"node": "latest please"}})})
    assert result.exit_code == 1
    assert ' !     engines.node "latest please" is not a version range' in result.output


def test_a_dependency_npm_cannot_find_fails_with_npms_error(containers):
    files = {"package.json": json.dumps({"dependencies": {"pier-no-such-package-4b1d": "1.0.0"}})}
    result = build(containers, files)
    assert result.exit_code == 1
    assert "404" in result.output and "pier-no-such-package-4b1d" in result.output
    assert " !     npm install could not install the dependencies (its error is above)" in result.output


# --- Go --------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def first_go_build(docker_client):
    made = Containers(docker_client)
    try:
        result = build(made, example("go-app"))
    finally:
        made.remove()
    assert result.exit_code == 0, result.output
    return result


def test_the_go_example_builds_with_the_standard_library_and_serves(containers, first_go_build, stack_versions):
    output = first_go_build.output
    go = stack_versions[1]
    assert "-----> Go app detected" in output
    assert f"-----> Go module example.com/hello-go (go 1.22), with the stack's Go {go}" in output
    assert "-----> No module requirements: standard library only" in output
    assert f"-----> Compiling with Go {go}, no build cache yet (starting from the stack's compiled standard " \
           "library)" in output
    assert first_go_build.release == {"addons": [], "default_process_types": {"web": "bin/hello-go"}}
    assert not any(n.startswith("app/.cache") or "/go/build/" in n for n in slug_names(first_go_build.slug))
    port = serve(containers, first_go_build.slug, "bin/hello-go")
    assert fetch(port, "/")[2] == "Hello from a Go app on Pier\n"
    assert fetch(port, "/version")[2] == f"built with go{go}\n"


def test_a_go_rebuild_reuses_the_build_cache(containers, first_go_build, stack_versions):
    second = build(containers, example("go-app"), cache=first_go_build.cache)
    assert second.exit_code == 0, second.output
    assert f"-----> Compiling with Go {stack_versions[1]}, reusing the build cache of the previous build" \
        in second.output


def test_deis_disable_cache_builds_go_without_a_cache_and_keeps_none(containers, first_go_build, stack_versions):
    """Without the app's cache the build still starts from the stack's compiled standard library: with GOFLAGS=-v
    (config reaches the build's environment) Go names each package it compiles, and only the app's is."""
    second = build(containers, example("go-app"), env={"DEIS_DISABLE_CACHE": "1", "GOFLAGS": "-v"},
                   cache=first_go_build.cache)
    assert second.exit_code == 0, second.output
    assert f"-----> Compiling with Go {stack_versions[1]}, no build cache (starting from the stack's compiled " \
           "standard library)\n" in second.output
    compiled = [line.strip() for line in second.output.splitlines() if re.fullmatch(r" {7}[\w./-]+", line)]
    assert compiled == ["example.com/hello-go"], second.output
    assert not any(n.startswith("cache/go/") for n in slug_names(second.cache))


def test_a_go_compile_error_shows_the_compilers_lines(containers):
    files = dict(example("go-app"), **{"main.go": "package main\n\nfunc main() {\n\tundefinedThing()\n}\n"})
    result = build(containers, files)
    assert result.exit_code == 1
    assert "       main.go:4:2: undefined: undefinedThing" in result.output.replace("./", "")
    assert " !     The Go build failed (the compiler's errors are above); fix them and push again" in result.output


def test_a_module_requirement_without_a_proxy_says_to_vendor(containers):
    files = dict(example("go-app"), **{"go.mod": "module example.com/needs\n\ngo 1.22\n\n"
                                                 "require github.com/pier-test/nowhere v1.0.0\n"})
    result = build(containers, files)
    assert result.exit_code == 1
    assert "-----> Downloading 1 required modules (go mod download)" in result.output
    assert "github.com/pier-test/nowhere" in result.output  # Go's own reason
    assert "no module proxy may be reachable from this builder: vendor them (go mod vendor) and commit vendor/" \
        in result.output
    assert "(from GOPROXY=https://proxy.golang.org,direct)" in result.output
    from_config = build(containers, files, env={"GOPROXY": "off"})
    assert from_config.exit_code == 1
    assert "(from GOPROXY=off)" in from_config.output, "config's GOPROXY did not reach go"


def test_vendored_modules_build_without_a_proxy(containers):
    files = {"go.mod": "module example.com/vendored\n\ngo 1.22\n\nrequire example.com/greet v1.0.0\n",
             "vendor/modules.txt": "# example.com/greet v1.0.0\n## explicit\nexample.com/greet\n",
             "vendor/example.com/greet/greet.go": 'package greet\n\nfunc Hello() string { return "vendored hello" }\n',
             "main.go": 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\n'
                        "func main() { fmt.Println(greet.Hello()) }\n"}
    result = build(containers, files)
    assert result.exit_code == 0, result.output
    assert "-----> Using vendored modules (vendor/modules.txt)" in result.output
    assert output_of(containers, result.slug, result.release["default_process_types"]["web"]) == "vendored hello"


@pytest.mark.parametrize("go_mod, message", [
    ("modul example.com/x\n", "go.mod:1: unknown directive: modul"),
    ("module example.com/x\n\ngo 1.99\n", "go.mod asks for go 1.99 (its go line), and this stack has Go "),
])
def test_a_go_mod_the_stack_cannot_use_fails_with_what_to_fix(containers, go_mod, message):
    result = build(containers, {"go.mod": go_mod, "main.go": "package main\n\nfunc main() {}\n"})
    assert result.exit_code == 1
    assert message in result.output
    assert result.last_line == "-----> Build failed: the Go buildpack's compile step exited 1"


# --- .buildpacks and detection ---------------------------------------------------------------------------------

MULTI_APP = {
    ".buildpacks": "# assets first, then the app\nnodejs\n\nheroku/python\n",
    "package.json": json.dumps({"name": "assets", "scripts": {"build": "node build.js"},
                                "devDependencies": {"marked": "12.0.2"}}),
    "build.js": "const fs = require('fs'); const { marked } = require('marked');\n"
                "fs.mkdirSync('static', { recursive: true });\n"
                "fs.writeFileSync('static/index.html', marked.parse('# Assets by Node'));\n",
    "requirements.txt": "# standard library only\n",
    "app.py": "import functools, http.server, os\n"
              "handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory='static')\n"
              "http.server.ThreadingHTTPServer(('0.0.0.0', int(os.environ['PORT'])), handler).serve_forever()\n",
    "Procfile": "web: python3 app.py\n",
    ".profile": "export FROM_PROFILE=sourced\n",
}


def test_buildpacks_listed_in_dot_buildpacks_compile_in_order_over_one_app(containers):
    result = build(containers, MULTI_APP)
    assert result.exit_code == 0, result.output
    output = result.output
    assert "-----> .buildpacks lists 2 buildpacks, compiled in order" in output
    node = output.index("-----> Node.js app detected (buildpack 1 of 2: the built-in nodejs buildpack)")
    python = output.index("-----> Python app detected (buildpack 2 of 2: the built-in python buildpack)")
    assert node < output.index("-----> Pruned devDependencies: 1 of 1 installed packages removed") < python
    assert result.release == {"addons": [], "default_process_types": {}}  # python's, the last one
    port = serve(containers, result.slug, "python3 app.py")
    assert fetch(port, "/") == (200, "text/html", "<h1>Assets by Node</h1>\n")
    assert output_of(containers, result.slug, "echo $FROM_PROFILE; command -v python3") == \
        "sourced\n/app/.venv/bin/python3"

    second = build(containers, MULTI_APP, cache=result.cache)
    assert second.exit_code == 0, second.output
    assert "-----> Using cached node_modules (package.json unchanged)" in second.output
    assert "-----> Using cached dependencies (requirements.txt unchanged)" in second.output


def test_each_detect_sees_what_the_buildpacks_before_it_made(containers):
    site = {".buildpacks": "nodejs\nstatic\n",
            "package.json": json.dumps({"scripts": {"build": "node build.js"}}),
            "build.js": "require('fs').mkdirSync('public');\n"
                        "require('fs').writeFileSync('public/index.html', '<p>built by node</p>\\n');\n"}
    result = build(containers, site)  # no index.html until the Node.js build writes one
    assert result.exit_code == 0, result.output
    assert "-----> Static HTML app detected (buildpack 2 of 2: the built-in static buildpack)" in result.output
    web = result.release["default_process_types"]["web"]
    assert fetch(serve(containers, result.slug, web), "/")[2] == "<p>built by node</p>\n"


def test_a_custom_buildpack_after_a_built_in_sees_its_export_and_gives_the_release(network, containers):
    server = containers(entrypoint=["/bin/bash", "-c", CUSTOM_BUILDPACK.replace(
        'echo "-----> greeting from the custom buildpack"',
        'echo "-----> custom sees STACK=$STACK python3=$(command -v python3)"')], network=network)
    server.start()
    deadline = time.monotonic() + 20
    while b"Ready to rumble" not in server.logs():
        assert time.monotonic() < deadline, server.logs().decode()
        time.sleep(0.2)
    files = {".buildpacks": f"python\ngit://{server.name}/bp.git#v1\n", "requirements.txt": "\n"}
    result = build(containers, files, network=network)
    assert result.exit_code == 0, result.output
    assert f"-----> Fetching buildpack git://{server.name}/bp.git (v1)" in result.output
    assert "-----> custom sees STACK=heroku-22 python3=/app/.venv/bin/python3" in result.output
    assert result.release == {"default_process_types": {"web": "cat greeting.txt"}}


def test_a_dot_buildpacks_line_that_cannot_be_fetched_names_the_line(containers):
    result = build(containers, dict(MULTI_APP, **{".buildpacks": "nodejs\nhttps://127.0.0.1:9/nope.git\n"}))
    assert result.exit_code == 1
    assert result.last_line.startswith(
        "-----> Could not fetch buildpack https://127.0.0.1:9/nope.git (.buildpacks line 2): ")
    assert "Node.js app detected" not in result.output, "nothing compiles before every buildpack is fetched"


@pytest.mark.parametrize("text, message", [
    ("ruby\n", "Refusing .buildpacks line 1 ruby: only https://, http:// and git:// URLs and the built-in names "
               "(python nodejs go static) are supported"),
    ("nodejs\n--upload-pack=touch /tmp/x\n", "Refusing .buildpacks line 2 --upload-pack=touch /tmp/x: it must not "
                                             "start with '-'"),
    ("file:///pier/buildpacks/python\n", "Refusing .buildpacks line 1 file:///pier/buildpacks/python: "),
    ("https://example.com/bp.git#--upload-pack=x\n", "is not a branch or tag name"),
    ("# only a comment\n\n", ".buildpacks lists no buildpack: put one URL or built-in name"),
    ("python\n" * 9, ".buildpacks lists 9 buildpacks; at most 8 are run"),
    ("go\n", "App not compatible with the built-in go buildpack (.buildpacks line 1): its bin/detect refused "
             "this app"),
])
def test_a_dot_buildpacks_file_with_a_bad_line_is_refused(containers, text, message):
    result = build(containers, dict(MULTI_APP, **{".buildpacks": text}))
    assert result.exit_code == 1
    assert message in result.last_line
    assert "Fetching buildpack" not in result.output


def test_buildpack_url_may_name_a_built_in_and_wins_over_dot_buildpacks(containers):
    files = {"requirements.txt": "\n", "package.json": '{"name": "x", "scripts": {"build": "echo node built"}}',
             ".buildpacks": "python\n"}
    result = build(containers, files, buildpack_url="nodejs")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("-----> BUILDPACK_URL is set, so .buildpacks is not read\n"
                                    "-----> Node.js app detected\n")
    assert "node built" in result.output and "Python" not in result.output


@pytest.mark.parametrize("files, detected", [
    ({"requirements.txt": "\n", "package.json": "{"}, "Python"),  # Python apps with assets keep their buildpack
    ({"package.json": "{", "public/index.html": "<p>"}, "Node.js"),
    ({"go.mod": "x", "index.html": "<p>"}, "Go"),
])
def test_detection_order(containers, files, detected):
    result = build(containers, files)
    assert f"-----> {detected} app detected" in result.output.splitlines()[0]
