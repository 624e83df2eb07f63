"""What every scheduler backend does: the same test functions run against each (see conftest.BACKENDS)."""
import dataclasses
import threading
import time

import pytest

from tests.contract.conftest import get
from workers.scheduler import SchedulerError


def test_deploy_serves_the_release_and_publishes_its_endpoints(backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    [pod] = backend.pods()
    assert (pod.state, pod.release, pod.type, pod.ready) == ("up", "v1", "cmd", True)
    [endpoint] = backend.endpoints()
    assert get(endpoint) == "one"


def test_a_new_release_replaces_the_old_one(backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    backend.scheduler.deploy(backend.spec(version=2, image="pier-test/web:two", env={"MESSAGE": "hello v2"}),
                             {"cmd": 1})
    assert [p.release for p in backend.pods()] == ["v2"]
    [endpoint] = backend.endpoints()
    assert get(endpoint) == "hello v2"


def test_a_failing_release_leaves_the_old_one_serving(backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    [before] = backend.endpoints()
    with pytest.raises(SchedulerError) as failure:
        backend.scheduler.deploy(backend.spec(version=2, image="pier-test/broken:1"), {"cmd": 1})
    assert "boom: the app cannot start" in str(failure.value)
    assert [p.release for p in backend.pods()] == ["v1"]
    assert backend.endpoints() == [before]
    assert get(before) == "one"


def test_a_release_that_never_gets_ready_fails_and_leaves_nothing(backend):
    backend.scheduler.settings = dataclasses.replace(backend.scheduler.settings, deploy_timeout=2.0)
    probe = {"cmd": {"readinessProbe": {"httpGet": {"path": "/missing", "port": 8080}}}}
    with pytest.raises(SchedulerError, match="was not ready within 2s"):
        backend.scheduler.deploy(backend.spec(healthcheck=probe), {"cmd": 1})
    assert backend.pods() == []


def test_a_passing_readiness_probe_lets_the_deploy_through(backend):
    probe = {"cmd": {"readinessProbe": {"httpGet": {"path": "/env", "port": 8080}}}}
    backend.scheduler.deploy(backend.spec(healthcheck=probe), {"cmd": 2})
    assert [p.state for p in backend.pods()] == ["up", "up"]


def test_scale_up_down_and_to_zero(backend):
    spec = backend.spec()
    backend.scheduler.scale(spec, {"cmd": 3})
    assert len(backend.pods()) == 3 and len(backend.endpoints()) == 3
    assert len({p.name for p in backend.pods()}) == 3
    backend.scheduler.scale(spec, {"cmd": 1})
    [kept] = backend.pods()
    assert len(backend.endpoints()) == 1 and get(backend.endpoints()[0]) == "one"
    if backend.stable_pod_names:  # Kubernetes' ReplicaSet picks which pods go by its own ranking
        assert kept.name.endswith(".cmd.1")
    backend.scheduler.scale(spec, {"cmd": 0})
    assert backend.pods() == [] and backend.endpoints() == []


def test_several_process_types_scale_independently(backend):
    spec = backend.spec(procfile={"worker": "sleep 1000"})
    backend.scheduler.scale(spec, {"cmd": 1, "worker": 2})
    assert sorted(p.type for p in backend.pods()) == ["cmd", "worker", "worker"]
    assert len(backend.endpoints()) == 1 and backend.endpoints("worker") == []


def test_restart_all_one_type_and_one_pod_keeps_serving(backend):
    spec = backend.spec(procfile={"worker": "sleep 1000"})
    backend.scheduler.deploy(spec, {"cmd": 2, "worker": 1})
    before = {p.name: p for p in backend.pods()}
    one = sorted(n for n, p in before.items() if p.type == "cmd")[0]
    [restarted] = backend.scheduler.restart(spec, {"cmd": 2, "worker": 1}, name=one)
    assert restarted.state == "up" and restarted.type == "cmd"
    workers = backend.scheduler.restart(spec, {"cmd": 2, "worker": 1}, process_type="worker")
    assert [p.type for p in workers] == ["worker"]
    every = backend.scheduler.restart(spec, {"cmd": 2, "worker": 1})
    if backend.stable_pod_names:  # each replacement takes its predecessor's name
        assert restarted.name == one
        assert sorted(p.name for p in every) == sorted(before)
        assert sorted(p.name for p in backend.pods()) == sorted(before)
    else:  # Kubernetes names every replacement anew: the named pod and then every pod were replaced
        assert restarted.name != one and one not in {p.name for p in backend.pods()}
        assert sorted(p.type for p in every) == sorted(p.type for p in before.values())
        assert sorted(p.name for p in backend.pods()) == sorted(p.name for p in every)
        assert not {p.name for p in every} & set(before)
    assert all(p.state == "up" for p in backend.pods())
    assert [get(e) for e in backend.endpoints()] == ["one", "one"]
    with pytest.raises(SchedulerError, match="No pods"):
        backend.scheduler.restart(spec, {"cmd": 2, "worker": 1}, name="no-such-pod")


def test_restart_answers_every_request_meanwhile(backend):
    # the router needs a moment to take new endpoints; here the test is the router
    backend.scheduler.settings = dataclasses.replace(backend.scheduler.settings, drain_seconds=1.0)
    spec = backend.spec()
    backend.scheduler.deploy(spec, {"cmd": 1})
    failures, answered, done = [], [], threading.Event()

    def load():
        while not done.is_set():
            for endpoint in backend.endpoints():
                try:
                    answered.append(get(endpoint, timeout=2))
                except OSError as exc:
                    failures.append(repr(exc))
            time.sleep(0.01)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        backend.scheduler.restart(spec, {"cmd": 1})
    finally:
        time.sleep(0.2)
        done.set()
        loader.join()
    assert answered and not failures, failures[:3]


def test_run_returns_output_and_exit_code(backend):
    assert backend.scheduler.run(backend.spec(), "echo 'héllo \"quoted\"'; exit 3") == (3, 'héllo "quoted"\n')
    code, output = backend.scheduler.run(backend.spec(), "no-such-command --flag")
    assert code == 127 and "not found" in output
    assert backend.scheduler.run(backend.spec(env={"GREETING": "hi"}), "printenv GREETING") == (0, "hi\n")
    assert backend.pods() == []


def test_environment_reaches_the_processes(backend):
    backend.scheduler.deploy(backend.spec(env={"GREETING": "héllo wörld", "PORT": "9090"}), {"cmd": 1})
    [endpoint] = backend.endpoints()
    environment = get(endpoint, "/env")
    assert '"GREETING": "h\\u00e9llo w\\u00f6rld"' in environment and '"PORT": "9090"' in environment


def test_limits_are_applied(backend):
    spec = backend.spec(memory={"cmd": "64M/128M"}, cpu={"cmd": "250m"})
    backend.scheduler.deploy(spec, {"cmd": 1})
    [pod] = backend.pods()
    limits = backend.limits(pod.name)
    assert limits["memory"] == 128 * 1024 ** 2 and limits["memory_request"] == 64 * 1024 ** 2
    assert limits["nano_cpus"] == 250_000_000


def test_a_process_without_limits_gets_the_platforms_default_memory_limit(backend):
    backend.scheduler.deploy(backend.spec(procfile={"worker": "sleep 1000"}), {"worker": 1})
    [pod] = backend.pods()
    limit = backend.scheduler.settings.container_memory
    assert backend.limits(pod.name)["memory"] == int(limit[:-1]) * {"M": 1024 ** 2, "G": 1024 ** 3}[limit[-1]]


def test_unmatched_tags_are_refused(backend):
    with pytest.raises(SchedulerError, match="No nodes matched the provided labels: region=mars"):
        backend.scheduler.deploy(backend.spec(tags={"region": "mars"}), {"cmd": 1})
    assert backend.pods() == []


def test_a_killed_process_shows_and_is_drift_until_redeployed(backend):
    spec = backend.spec()
    backend.scheduler.deploy(spec, {"cmd": 2})
    assert backend.scheduler.drift(spec, {"cmd": 2}, backend.pods()) == []
    victim = backend.pods()[0].name
    backend.kill(victim)
    states = {p.name: p.state for p in backend.pods()}
    assert states[victim] in ("crashed", "down")
    reasons = backend.scheduler.drift(spec, {"cmd": 2}, backend.pods())
    assert reasons and victim in " ".join(reasons)
    backend.scheduler.deploy(spec, {"cmd": 2})
    assert [p.state for p in backend.pods()] == ["up", "up"]
    assert backend.scheduler.drift(spec, {"cmd": 2}, backend.pods()) == []


def test_drift_names_other_releases_and_missing_types(backend):
    old = backend.spec()
    backend.scheduler.deploy(old, {"cmd": 1})
    new = backend.spec(version=2)
    assert any("not part of v2" in r for r in backend.scheduler.drift(new, {"cmd": 1}, backend.pods()))
    assert any("0 of 1 up" in r for r in backend.scheduler.drift(new, {"cmd": 1}, backend.pods()))


def test_observe_groups_every_apps_pods(backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 2})
    observed = backend.scheduler.observe()
    assert [p.name for p in observed[backend.app]] == [p.name for p in backend.pods()]


def test_logs_are_collected_from_every_process(backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 2})
    lines, stop = [], threading.Event()
    collector = threading.Thread(target=backend.scheduler.collect_logs,
                                 args=(lambda *line: lines.append(line), stop))
    collector.start()
    try:
        [endpoint, _] = backend.endpoints()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            mine = [line for line in lines if line[0] == backend.app]
            if len({pod for _, pod, _, text in mine if "listening on 8080" in text}) == 2:
                break
            time.sleep(0.1)
        get(endpoint, "/collected")
        while time.monotonic() < deadline and not any("/collected" in line[3] for line in lines):
            time.sleep(0.1)
    finally:
        stop.set()
        collector.join(timeout=10)
    mine = [line for line in lines if line[0] == backend.app]
    assert {pod for _, pod, _, text in mine if "listening on 8080" in text} == {p.name for p in backend.pods()}
    assert any("/collected" in text for _, _, _, text in mine)
    stamps = [stamp for _, _, stamp, _ in mine]
    assert all(stamp.endswith("Z") and "T" in stamp for stamp in stamps)


def test_log_collection_resumes_without_repeating_lines(backend):
    backend.scheduler.deploy(backend.spec(), {"cmd": 1})
    seen, stop = [], threading.Event()
    last = {}

    def sink(app, pod, stamp, text):
        if app == backend.app:
            seen.append(text)
            last[pod] = stamp

    for _ in range(2):  # the second collector resumes from the first one's cursor
        stop.clear()
        collector = threading.Thread(target=backend.scheduler.collect_logs, args=(sink, stop, last.get))
        collector.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("listening" in t for t in seen):
            time.sleep(0.1)
        time.sleep(1.5)
        stop.set()
        collector.join(timeout=10)
    assert sum("listening on 8080" in t for t in seen) == 1


def test_destroy_leaves_nothing(backend):
    backend.scheduler.deploy(backend.spec(procfile={"worker": "sleep 1000"}), {"cmd": 2, "worker": 1})
    backend.scheduler.destroy(backend.app, backend.app_uuid)
    assert backend.pods() == []
    assert backend.app not in backend.scheduler.observe()
    backend.scheduler.destroy(backend.app, backend.app_uuid)  # nothing left to remove is fine


def test_a_redelivered_deploy_converges_to_the_same_processes(backend):
    spec = backend.spec()
    backend.scheduler.deploy(spec, {"cmd": 2})
    first = sorted(p.name for p in backend.pods())
    backend.scheduler.deploy(spec, {"cmd": 2})
    assert sorted(p.name for p in backend.pods()) == first
    assert len(backend.endpoints()) == 2


def test_cpu_usage_gives_a_figure_per_running_process_unless_the_runtime_autoscales(backend):
    spec = backend.spec(procfile={"worker": "sleep 1000"}, cpu={"cmd": "200m/500m"})
    backend.scheduler.deploy(spec, {"cmd": 2, "worker": 1})
    usage = backend.scheduler.cpu_usage(spec, ["cmd", "worker", "clock"])
    assert backend.scheduler.runtime_autoscales is (backend.name == "kubernetes")
    if backend.scheduler.runtime_autoscales:  # HorizontalPodAutoscalers size the Deployments there
        assert usage is None
        return
    assert sorted(usage) == ["clock", "cmd", "worker"]
    assert (len(usage["cmd"]), len(usage["worker"]), usage["clock"]) == (2, 1, [])
    assert all(isinstance(figure, float) and figure >= 0 for figure in usage["cmd"] + usage["worker"])
