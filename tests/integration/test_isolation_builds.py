"""A build cannot reach the platform's internals: the engine no longer fetches `ADD <url>` for it (it once read
flower and the registry on the host's loopback), it starts only from images its app may deploy, and its RUN
steps find the registry, flower, Redis and PostgreSQL unreachable and the API's hooks closed to it."""
import uuid
from pathlib import Path

from tests.support.builder import builder, pusher  # noqa: F401 - fixtures
from tests.support.docker_apps import APPS

WEB_FILES = {name: (Path(APPS) / "web" / name).read_text() for name in ("server.py",)}

PROBE = r'''
import socket, struct, urllib.error, urllib.request

def gateway():
    for line in open("/proc/net/route").read().splitlines()[1:]:
        fields = line.split()
        if fields[1] == "00000000":
            return socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))

host = gateway()
for name, port in (("registry", 5000), ("flower", 5555), ("redis", 6379), ("postgres", 5432)):
    for address in (host, "127.0.0.1"):
        try:
            socket.create_connection((address, port), timeout=3).close()
            print("probe", name, address, "REACHED")
        except OSError as exc:
            print("probe", name, address, "unreachable", type(exc).__name__)
try:
    urllib.request.urlopen(f"http://{host}:8000/v2/hooks/apps", timeout=3).read()
    print("probe hooks READ")
except urllib.error.HTTPError as exc:
    print("probe hooks answered", exc.code)
except OSError as exc:
    print("probe hooks unreachable", type(exc).__name__)
'''


def test_a_build_finds_the_platforms_services_unreachable(alice, pusher):  # noqa: F811
    alice.create_app("nosy")
    # a probe of its own each run: Docker's build cache would otherwise skip the RUN step and its output
    files = dict(WEB_FILES, **{"probe.py": PROBE + f"# run {uuid.uuid4().hex}\n", "default.txt": "nosy",
                               "Dockerfile": "FROM pier/base:bookworm\nCOPY probe.py /probe.py\n"
                                             "RUN python3 /probe.py\nCOPY server.py default.txt /app/\n"
                                             "EXPOSE 8080\nCMD [\"python3\", \"/app/server.py\"]\n"})
    code, output = pusher.push(pusher.repo("nosy", files), "nosy")
    assert code == 0, output
    probes = [line.split("probe ", 1)[1] for line in output.splitlines() if "probe " in line]
    assert len(probes) == 9, output
    assert not any("REACHED" in p or "READ" in p for p in probes), probes
    assert all("unreachable" in p or "answered 401" in p or "answered 403" in p for p in probes), probes


def test_a_build_may_not_add_urls_nor_start_from_another_apps_image(alice, pusher):  # noqa: F811
    alice.create_app("sneaky")
    for dockerfile, said in (
            ("FROM pier/base:bookworm\nADD http://127.0.0.1:5555/api/workers /workers.json\n", "ADD with a URL"),
            ("FROM 127.0.0.1:5000/nosy:latest\n", "Images in Pier's registry belong to their app")):
        code, output = pusher.push(pusher.repo(f"sneaky-{len(said)}", {"Dockerfile": dockerfile}), "sneaky")
        assert code != 0 and said in output, output
    assert [r["version"] for r in alice.get("/v2/apps/sneaky/releases").get_json()["results"]] == [1]
