"""The stack image and its built-in buildpacks, on the real Docker engine, driven as the build worker drives them:
source in /app, the previous cache in /cache and config files in /env (all owned by uid 1000), then /pier/build.
Python builds install from PyPI, so these tests need the network the build containers would have."""
import io
import os
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
import uuid

import docker
import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# PIER_STACK_IMAGE tests a stack built under another tag (its builder made it); the default one is built here.
STACK = os.environ.get("PIER_STACK_IMAGE", "pier/stack:bookworm")
PREFIX = "pier-bptest-"
SERVER = "import http.server\nhttp.server.test(port=5000)\n"  # the app's own code: stdlib only


@pytest.fixture(scope="session")
def docker_client():
    if STACK == "pier/stack:bookworm":
        subprocess.run([os.path.join(TOP, "scripts", "platform.sh"), "images"], check=True)
    client = docker.from_env()
    client.images.get(STACK)  # an image that is not there fails here, not as a confusing build failure
    return client


class Containers:
    """Creates containers named pier-bptest-* from the stack; remove() drops every one it created."""

    def __init__(self, client):
        self.client, self.made = client, []

    def __call__(self, **options):
        container = self.client.containers.create(STACK, name=f"{PREFIX}{uuid.uuid4().hex[:10]}",
                                                  mem_limit="1g", **options)
        self.made.append(container)
        return container

    def remove(self):
        for container in self.made:
            container.remove(force=True)


@pytest.fixture
def containers(docker_client):
    made = Containers(docker_client)
    yield made
    made.remove()


def tar_of(directory, files):
    """A tar of {relative path: text} under `directory`, owned by uid/gid 1000 as the worker puts it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        def add(name, data=None):
            info = tarfile.TarInfo(name)
            info.uid = info.gid = 1000
            info.mtime = int(time.time())
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            else:
                info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        folders = {directory} | {"/".join([directory, *path.split("/")[:depth]])
                                 for path in files for depth in range(1, path.count("/") + 1)}
        for folder in sorted(folders):
            add(folder)
        for path, text in files.items():
            add(f"{directory}/{path}", text.encode())
    return buffer.getvalue()


def copied_out(container, path):
    return b"".join(container.get_archive(path)[0])


class Build:
    def __init__(self, exit_code, output, slug=None, cache=None, release=None):
        self.exit_code, self.output, self.slug, self.cache, self.release = exit_code, output, slug, cache, release

    @property
    def last_line(self):
        return self.output.rstrip().splitlines()[-1]


def build(containers, source, env=None, cache=None, buildpack_url=None, **options):
    """Runs /pier/build as the worker will; on success also copies out the slug, the cache and release.yml."""
    container = containers(entrypoint=["/pier/build"], user="1000:1000",
                           environment={"BUILDPACK_URL": buildpack_url} if buildpack_url else {}, **options)
    container.put_archive("/", tar_of("app", source))
    container.put_archive("/", tar_of("env", env or {}))
    container.put_archive("/", cache or tar_of("cache", {}))
    container.start()
    exit_code = container.wait(timeout=240)["StatusCode"]
    output = container.logs(stdout=True, stderr=True).decode()
    if exit_code != 0:
        return Build(exit_code, output)
    with tarfile.open(fileobj=io.BytesIO(copied_out(container, "/tmp/out/release.yml"))) as tar:
        release = yaml.safe_load(tar.extractfile("release.yml"))
    return Build(exit_code, output, copied_out(container, "/app"), copied_out(container, "/cache"), release)


def run(containers, slug, command, **options):
    """A runtime container: the stack, the slug at /app, /pier/launch as the entrypoint."""
    container = containers(command=["/bin/sh", "-c", command], **options)
    container.put_archive("/", slug)
    container.start()
    return container


def output_of(containers, slug, command):
    container = run(containers, slug, command)
    assert container.wait(timeout=60)["StatusCode"] == 0, container.logs().decode()
    return container.logs().decode().strip()


PYTHON_APP = {"requirements.txt": "six==1.16.0\n", "server.py": SERVER, "Procfile": "web: python3 server.py\n"}
SIX_VERSION = "python3 -c 'import six; print(six.__version__)'"


@pytest.fixture(scope="module")
def first_python_build(docker_client):
    """One build from an empty cache; the tests that carry its cache over each start from it."""
    made = Containers(docker_client)
    try:
        result = build(made, PYTHON_APP)
    finally:
        made.remove()
    assert result.exit_code == 0, result.output
    return result


def test_a_python_app_builds_and_its_slug_runs_with_its_dependencies(containers, first_python_build):
    assert "-----> Python app detected" in first_python_build.output
    assert "-----> Installing dependencies with pip" in first_python_build.output
    assert "       Successfully installed six-1.16.0" in first_python_build.output
    assert first_python_build.release == {"addons": [], "default_process_types": {}}
    assert output_of(containers, first_python_build.slug, SIX_VERSION) == "1.16.0"
    assert output_of(containers, first_python_build.slug, "command -v python3; echo $PYTHONUNBUFFERED; pwd") == \
        "/app/.venv/bin/python3\n1\n/app"


def test_unchanged_requirements_reuse_the_cached_dependencies(containers, first_python_build):
    second = build(containers, PYTHON_APP, cache=first_python_build.cache)
    assert second.exit_code == 0, second.output
    assert "-----> Using cached dependencies (requirements.txt unchanged)" in second.output
    assert "Installing dependencies with pip" not in second.output
    assert output_of(containers, second.slug, SIX_VERSION) == "1.16.0"


def test_changed_requirements_are_installed_again(containers, first_python_build):
    changed = dict(PYTHON_APP, **{"requirements.txt": "six==1.15.0\n"})
    second = build(containers, changed, cache=first_python_build.cache)
    assert second.exit_code == 0, second.output
    assert "-----> Installing dependencies with pip" in second.output
    assert "Using cached dependencies" not in second.output
    assert output_of(containers, second.slug, SIX_VERSION) == "1.15.0"


def test_deis_disable_cache_ignores_the_cache(containers, first_python_build):
    second = build(containers, PYTHON_APP, env={"DEIS_DISABLE_CACHE": "1"}, cache=first_python_build.cache)
    assert second.exit_code == 0, second.output
    assert "-----> Cache disabled (DEIS_DISABLE_CACHE)" in second.output
    assert "-----> Installing dependencies with pip" in second.output
    assert "Using cached dependencies" not in second.output


def test_a_runtime_txt_for_another_python_fails_and_says_which_to_use(containers):
    result = build(containers, dict(PYTHON_APP, **{"runtime.txt": "python-3.12.1\n"}))
    assert result.exit_code == 1
    assert "runtime.txt asks for python-3.12, this stack has Python 3.11." in result.output
    assert "; use python-3.11" in result.output
    assert result.last_line == "-----> Build failed: the Python buildpack's compile step exited 1"


def test_a_requirement_pip_cannot_find_fails_with_pips_error(containers):
    result = build(containers, dict(PYTHON_APP, **{"requirements.txt": "pier-no-such-package-4b1d==1.0\n"}))
    assert result.exit_code == 1
    assert "No matching distribution found for pier-no-such-package-4b1d==1.0" in result.output
    assert "pip could not install requirements.txt" in result.output
    assert result.last_line == "-----> Build failed: the Python buildpack's compile step exited 1"


def fetch(port, path):
    """(status, content type, body) from the host's published port, waiting for the server to listen."""
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                return response.status, response.headers["Content-Type"], response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], ""
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_static_site_builds_and_is_served_with_its_content_types(containers):
    site = {"public/index.html": "<h1>hello from pier</h1>\n", "public/style.css": "h1 { color: red }\n",
            "public/docs/notes.txt": "no index here\n", "README.md": "a site\n"}
    result = build(containers, site)
    assert result.exit_code == 0, result.output
    assert "-----> Static HTML app detected" in result.output
    web = result.release["default_process_types"]["web"]
    assert web == "python3 /app/.pier-static/serve.py"
    server = run(containers, result.slug, web, environment={"PORT": "5000"},
                 ports={"5000/tcp": ("127.0.0.1", None)})
    server.reload()
    port = server.ports["5000/tcp"][0]["HostPort"]
    assert fetch(port, "/") == (200, "text/html; charset=utf-8", "<h1>hello from pier</h1>\n")
    assert fetch(port, "/style.css")[:2] == (200, "text/css; charset=utf-8")
    assert fetch(port, "/missing.html")[0] == 404
    assert fetch(port, "/docs/")[0] == 404  # no directory listings
    assert fetch(port, "/docs/notes.txt")[0] == 200
    assert fetch(port, "/README.md")[0] == 404  # public/ is the document root


def test_an_app_no_buildpack_recognizes_fails_and_says_what_to_add(containers):
    result = build(containers, {"README.md": "nothing to build\n"})
    assert result.exit_code == 1
    assert result.last_line == ("-----> No buildpack detected: add a requirements.txt (Python), a package.json "
                                "(Node.js), a go.mod (Go) or an index.html (static site), or set BUILDPACK_URL "
                                "or list buildpacks in .buildpacks")


def test_a_buildpack_url_that_cannot_be_cloned_fails_with_gits_reason(containers):
    result = build(containers, PYTHON_APP, buildpack_url="https://127.0.0.1:9/nope.git")
    assert result.exit_code == 1
    assert result.last_line.startswith("-----> Could not fetch buildpack https://127.0.0.1:9/nope.git: ")
    assert "127.0.0.1" in result.last_line.split(": ", 1)[1]  # git's own reason follows


@pytest.mark.parametrize("url", ["--upload-pack=touch /tmp/pwned", "-c", "file:///pier/buildpacks/python",
                                 "git@example.com:someone/buildpack.git", "/pier/buildpacks/python",
                                 "https://example.com/bp.git#--upload-pack=x"])
def test_a_buildpack_url_that_is_not_a_plain_remote_url_is_refused(containers, url):
    result = build(containers, PYTHON_APP, buildpack_url=url)
    assert result.exit_code == 1
    assert result.last_line.startswith("-----> Refusing BUILDPACK_URL ")
    assert "Fetching buildpack" not in result.output


# A one-file-per-step buildpack in a bare repository whose `v1` branch `git daemon` serves over git://.
CUSTOM_BUILDPACK = r"""
set -e
mkdir -p /tmp/bp/bin && cd /tmp/bp
printf '#!/bin/sh\necho Greeting\n' > bin/detect
printf '#!/bin/sh\necho "-----> greeting from the custom buildpack"\necho hello > "$1/greeting.txt"\n' > bin/compile
printf '#!/bin/sh\nprintf -- "---\\ndefault_process_types:\\n  web: cat greeting.txt\\n"\n' > bin/release
chmod +x bin/*
git init -q -b v1 . && git add bin
git -c user.name=t -c user.email=t@example.com commit -qm buildpack
git clone -q --bare /tmp/bp /tmp/srv/bp.git
exec git daemon --verbose --export-all --base-path=/tmp/srv --listen=0.0.0.0 --port=9418 /tmp/srv
"""


@pytest.fixture
def network(docker_client):
    made = docker_client.networks.create(f"{PREFIX}{uuid.uuid4().hex[:10]}")
    yield made.name
    made.remove()


def test_a_buildpack_url_with_a_ref_is_cloned_and_used(network, containers):  # network set up first, removed last
    server = containers(entrypoint=["/bin/bash", "-c", CUSTOM_BUILDPACK], network=network)
    server.start()
    deadline = time.monotonic() + 20
    while b"Ready to rumble" not in server.logs():
        assert time.monotonic() < deadline, server.logs().decode()
        time.sleep(0.2)
    url = f"git://{server.name}/bp.git"
    result = build(containers, {"README.md": "no python here\n"}, buildpack_url=f"{url}#v1", network=network)
    assert result.exit_code == 0, result.output
    assert f"-----> Fetching buildpack {url} (v1)" in result.output
    assert "-----> Greeting app detected\n-----> greeting from the custom buildpack" in result.output
    assert result.release == {"default_process_types": {"web": "cat greeting.txt"}}
    assert output_of(containers, result.slug, "cat greeting.txt") == "hello"
