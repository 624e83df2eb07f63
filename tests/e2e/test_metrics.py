"""A real Prometheus scrapes every metrics endpoint of the platform started from the Procfile, and its queries
give back what the test did: deploys (counted in the deploys worker's forked children), controller requests
by route (in gunicorn's two workers), requests through the router, pushes, and flower behind its password.

The apps run on the in-memory scheduler, inside the deploys worker: nothing needs the Docker engine here."""
import math
import os

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from core.metrics import PORT_OFFSETS
from tests.conftest import TEST_REDIS_URL
from tests.e2e.platform import Platform
from tests.e2e.users import web_app
from tests.support.builder import Pusher, free_port
from tests.support.prometheus import Prometheus, free_port_block

BROKER = TEST_REDIS_URL.rsplit("/", 1)[0] + "/12"  # a broker of its own: no other worker consumes it
TOKEN = "metrics-e2e-token-0123456789abcdef"
FLOWER_PASSWORD = "flower-metrics-password"
PROCESSES = ("web", "worker", "builds", "runs", "periodic", "watcher", "router", "builder", "flower")
WEB, OTHER = "metrics-web", "metrics-other"


def own_database():
    """A database of this test's own, next to the test database, made once (the role may create databases)."""
    test_url = os.environ["PIER_TEST_DATABASE_URL"]
    server, name = test_url.rsplit("/", 1)
    name = f"{name}_prometheus"
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server}/{name}"


@pytest.fixture(scope="module")
def scraped(tmp_path_factory):
    """(platform, prometheus, api token): the platform with its metrics endpoints, every one of them scraped
    each second."""
    workdir = tmp_path_factory.mktemp("metrics")
    redis.Redis.from_url(BROKER).flushdb()
    base, flower_port = free_port_block(len(PORT_OFFSETS)), free_port()
    platform = Platform(workdir, processes=PROCESSES, database_url=own_database(), redis_url=BROKER,
                        scheduler="memory", metrics_port_base=base, metrics_token=TOKEN,
                        metrics_folder=workdir / "metrics", flower_port=flower_port, flower_password=FLOWER_PASSWORD,
                        drain_seconds=0)
    local = "127.0.0.1"
    jobs = [
        {"job_name": "controller", "authorization": {"credentials": TOKEN},
         "static_configs": [{"targets": [f"{local}:{platform.api_port}"]}]},
        {"job_name": "workers", "static_configs": [{"targets": [f"{local}:{base + PORT_OFFSETS[queue]}"],
                                                    "labels": {"queue": queue}}
                                                   for queue in ("builds", "deploys", "runs", "periodic")]},
        *({"job_name": name, "static_configs": [{"targets": [f"{local}:{base + PORT_OFFSETS[name]}"]}]}
          for name in ("watcher", "router", "builder")),
        {"job_name": "flower", "basic_auth": {"username": "pier", "password": FLOWER_PASSWORD},
         "static_configs": [{"targets": [f"{local}:{flower_port}"]}]},
    ]
    prometheus = Prometheus(workdir, free_port(), jobs)
    try:
        platform.start()
        token = admin_token(platform.url)
        prometheus.wait_for("every target up", lambda: health(prometheus), {"up": 9}, seconds=120)
        yield platform, prometheus, token
    finally:
        prometheus.stop()
        platform.stop()


def health(prometheus):
    """{health: how many targets}, or the targets that are not up, with why."""
    targets = prometheus.targets()
    if all(health == "up" for health, _ in targets.values()):
        return {"up": len(targets)}
    return {target: why for target, why in targets.items() if why[0] != "up"}


def admin_token(url):
    user = {"username": "metrics-admin", "password": "a long passphrase for metrics", "email": "m@example.com"}
    assert requests.post(f"{url}/v2/auth/register/", json=user, timeout=30).status_code == 201
    answer = requests.post(f"{url}/v2/auth/login/", json={k: user[k] for k in ("username", "password")}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


class Api:
    def __init__(self, platform, token):
        self.url, self.headers = platform.url, {"Authorization": f"token {token}"}

    def post(self, path, body, expect):
        answer = requests.post(self.url + path, json=body, headers=self.headers, timeout=120)
        assert answer.status_code == expect, (path, answer.status_code, answer.text)
        return answer


def through_router(platform, app, path="/"):
    host = platform.host(app) if app else "nobody.e2e.localhost"
    return requests.get(f"http://127.0.0.1:{platform.http_port}{path}", headers={"Host": host}, timeout=10)


def test_prometheus_reads_the_deploys_the_requests_and_the_pushes_the_test_made(scraped, tmp_path):
    platform, prometheus, token = scraped
    api = Api(platform, token)
    api.post("/v2/apps", {"id": WEB}, 201)
    api.post("/v2/apps", {"id": OTHER}, 201)
    api.post(f"/v2/apps/{WEB}/builds", {"image": "example/web:v1"}, 201)  # deploy 1
    api.post(f"/v2/apps/{WEB}/config", {"values": {"GREETING": "hello"}}, 201)  # deploy 2
    api.post(f"/v2/apps/{OTHER}/builds", {"image": "example/other:v1"}, 201)  # deploy 3
    api.post(f"/v2/apps/{OTHER}/config", {"tags": {"zone": "mars"}}, 400)  # no node has the tag: it fails
    api.post(f"/v2/apps/{WEB}/scale", {"cmd": 2}, 204)

    # Deploys ran in the deploys worker's forked children; its endpoint serves their sum.
    operations = ('sum(pier_operations_total{kind="deploy", outcome="succeeded"})',
                  'sum(pier_operations_total{kind="deploy", outcome="failed"})',
                  'sum(pier_operations_total{kind="scale"})',
                  'sum(pier_operation_duration_seconds_count{kind="deploy"})')
    counted = (3, 1, 1, 4)
    prometheus.wait_for("3 deploys, 1 failed, 1 scale", lambda: tuple(prometheus.value(q) for q in operations),
                        counted)
    assert prometheus.value('count(pier_operations_total{job="workers", queue!="deploys"})') is None
    # The controller's requests by route rule, over gunicorn's two worker processes.
    builds = ('sum(pier_api_http_request_duration_seconds_count{method="POST", '
              'url_rule="/v2/apps/<app_id>/builds", status="201"})')
    prometheus.wait_for("the controller's 2 builds", lambda: prometheus.value(builds), 2)

    # Requests through the router: one of each series first, so that the burst is all in the increase.
    assert through_router(platform, WEB).status_code == 200
    assert through_router(platform, WEB, "/missing").status_code == 404
    served = f'pier_router_requests_total{{app="{WEB}"}}'
    first = prometheus.wait_for("the first requests", lambda: settled(prometheus, served, 2))
    unknown = 'sum(pier_router_requests_total{app=""})'  # no app has the host (the platform's port probe too)
    unknown_before = prometheus.value(unknown) or 0
    for _ in range(19):
        assert through_router(platform, WEB).status_code == 200
    for _ in range(4):
        assert through_router(platform, WEB, "/missing").status_code == 404
    for _ in range(3):
        assert through_router(platform, None).status_code == 404
    last = prometheus.wait_for("the burst", lambda: settled(prometheus, served, 25))
    # A window from the sample before the burst to the one after it: Prometheus extrapolates by at most 1 ms.
    window = f"{math.ceil((last - first) * 1000) + 1}ms"
    rate = prometheus.value(f"sum(rate({served}[{window}]))", at=last)
    assert rate * (last - first) == pytest.approx(23, abs=0.1), (rate, last - first)
    assert prometheus.value(f"sum(increase({served}[{window}]))", at=last) == pytest.approx(23, abs=0.1)
    assert prometheus.value(f'{served[:-1]}, status="2xx"}}') == 20
    assert prometheus.value(f'{served[:-1]}, status="4xx"}}') == 5
    prometheus.wait_for("3 requests to no app", lambda: prometheus.value(unknown), unknown_before + 3)
    assert prometheus.value(f'pier_router_upstream_response_seconds_count{{app="{WEB}"}}') == 25
    assert prometheus.value("pier_router_reloads_total") >= 1

    # Pushes: one refused before git ran (an app nobody gave this user), one rejected by the hook (not main).
    pusher = Pusher(tmp_path / "admin", platform.ssh_port)
    api.post("/v2/keys", {"id": "laptop", "public": pusher.public_key}, 201)
    code, output = pusher.push(pusher.repo("nobody", {"a.txt": "a"}), "metrics-nobody")
    assert code == 128 and "no access to app metrics-nobody" in output, output
    code, output = pusher.push(pusher.repo(WEB, {"a.txt": "a"}), WEB, refspec="main:feature")
    assert code != 0 and "main or master only" in output
    # and one that builds (a real `docker build` on the builds worker) and deploys
    code, output = pusher.push(pusher.repo("built", web_app("built")), WEB)
    assert code == 0 and f"Done, {WEB}:v4 deployed" in output, output
    assert f"/{WEB}:git-" in through_router(platform, WEB).text  # the in-memory scheduler answers its image
    pushes = 'pier_builder_pushes_total{outcome="%s"}'
    prometheus.wait_for("the pushes", lambda: tuple(prometheus.value(pushes % outcome)
                                                    for outcome in ("refused", "failed", "succeeded")), (1, 1, 1))
    assert prometheus.value('pier_builder_push_duration_seconds_count{outcome="failed"}') == 1
    prometheus.wait_for("the build and its deploy", lambda: (prometheus.value('sum(pier_builds_total)'),
                                                             prometheus.value(operations[0])), (1, 4))
    assert prometheus.value('pier_builds_total{outcome="succeeded"}') == 1

    # flower's metrics: Prometheus sends the platform's password, as to the rest of flower; flower 2.2 serves
    # /metrics to anyone who reaches its port, which is why it listens on 127.0.0.1 only (README, "Metrics")
    flower = f"http://127.0.0.1:{platform.env['PIER_FLOWER_PORT']}"
    assert requests.get(f"{flower}/api/workers", timeout=10).status_code == 401
    assert requests.get(f"{flower}/metrics", timeout=10).status_code == 200
    assert prometheus.wait_for("flower's task events", lambda: prometheus.value(
        'sum(flower_events_total{type="task-succeeded"})') or 0) >= 1


def settled(prometheus, series, total):
    """The timestamp of the newest sample of `series` once their sum is `total` (else None)."""
    if prometheus.value(f"sum({series})") != total:
        return None
    return prometheus.value(f"max(timestamp({series}))")
