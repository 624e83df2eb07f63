"""Deploys, processes, releases and one-off runs, with a real worker and the recording scheduler."""
import json

from tests.support import recording_scheduler as recorder


def test_pull_deploys_an_image_with_a_procfile(deployed):
    builds = deployed.json("builds", "-a", "hello")
    assert [(b["image"], b["procfile"]) for b in builds] == [
        ("example/web:v1", {"web": "bin/web", "worker": "bin/worker"})]
    [deploy] = recorder.calls("deploy")
    assert (deploy.app, deploy.args["spec"].version) == ("hello", 2)
    info = deployed("builds:info", builds[0]["uuid"], "-a", "hello").stdout
    assert "example/web:v1" in info and "web: bin/web" in info
    assert deployed("builds:info", "nope", "-a", "hello", code=1).stderr == "Error: build nope of hello not found\n"


def test_builds_create_reads_the_procfile_of_the_current_folder(hello, recording_scheduler, tmp_path):
    (tmp_path / "work" / "Procfile").write_text("# comment\r\nweb: ./server --port $PORT\r\nclock: ./clock\r\n")
    result = hello("builds:create", "example/web:v2", "-a", "hello")
    assert result.stderr.startswith("Creating build... done in ")
    assert result.stdout == "hello v2: ada deployed example/web:v2\n"
    assert hello.json("builds", "-a", "hello")[0]["procfile"] == {"web": "./server --port $PORT",
                                                                  "clock": "./clock"}


def test_a_failed_deploy_reports_the_scheduler_error(hello, recording_scheduler):
    recorder.fail_next("No nodes matched the provided labels: disk=ssd", method="deploy")
    result = hello("pull", "example/web:v1", "-a", "hello", code=1)
    assert result.stderr == ("Creating build... failed\n"
                             "Error: No nodes matched the provided labels: disk=ssd\n")
    [release] = [r for r in hello.json("releases", "-a", "hello") if r["version"] == 2]
    assert release["failed"] is True
    assert "(failed)" in hello("releases", "-a", "hello").stdout


def test_scale_and_list_processes(deployed):
    result = deployed("ps:scale", "web=2", "worker=1", "-a", "hello")
    assert result.stderr.startswith("Scaling processes... done in ")
    assert "--- web:\nhello.v2.web.1" in result.stdout and "hello.v2.worker.1" in result.stdout
    pods = deployed.json("ps", "-a", "hello")
    assert sorted(p["name"] for p in pods) == ["hello.v2.web.1", "hello.v2.web.2", "hello.v2.worker.1"]
    assert recorder.calls("scale")[-1].args["structure"] == {"web": 2, "worker": 1}
    deployed("scale", "worker=0", "-a", "hello")
    assert deployed.json("info", "-a", "hello")["app"]["structure"] == {"web": 2, "worker": 0}
    assert "Container type nope does not exist" in deployed("scale", "nope=1", "-a", "hello", code=1).stderr
    assert deployed("scale", "web=two", "-a", "hello", code=1).stderr == (
        "Error: expected TYPE=COUNT (e.g. web=3), got 'web=two'\n")


def test_an_autoscaled_type_is_not_scaled_by_hand(deployed):
    deployed("autoscale:set", "web", "--min", "1", "--max", "3", "--cpu-percent", "60", "-a", "hello")
    refused = deployed("ps:scale", "web=2", "-a", "hello", code=1)
    assert refused.stderr.endswith("Error: web is autoscaled: the autoscaler sets its count; "
                                   "run pier autoscale:unset web to scale by hand.\n")
    deployed("ps:scale", "worker=1", "-a", "hello")  # other types still scale
    deployed("autoscale:unset", "web", "-a", "hello")
    deployed("ps:scale", "web=2", "-a", "hello")
    assert deployed.json("info", "-a", "hello")["app"]["structure"] == {"web": 2, "worker": 1}


def test_restart_all_one_type_or_one_process(deployed):
    deployed("scale", "web=2", "worker=1", "-a", "hello")
    result = deployed("ps:restart", "-a", "hello")
    assert result.stderr.startswith("Restarting processes... done in ")
    deployed("ps:restart", "worker", "-a", "hello")
    deployed("restart", "hello.v2.web.2", "-a", "hello")
    restarts = [(c.args["process_type"], c.args["name"]) for c in recorder.calls("restart")]
    assert restarts == [(None, None), ("worker", None), ("web", "hello.v2.web.2")]
    assert deployed("ps:restart", "db", "-a", "hello", code=1).stderr == (
        "Error: hello has no process type or process named db; see pier ps:list -a hello\n")


def test_releases_list_info_and_rollback(deployed):
    deployed("config:set", "A=1", "-a", "hello")
    listing = deployed("releases", "-a", "hello").stdout.splitlines()
    assert listing[0] == "=== hello Releases"
    assert [line.split()[0] for line in listing[1:]] == ["v3", "v2", "v1"]
    assert listing[1].split()[3:] == ["deployed", "ada", "added", "A"]
    info = deployed.json("releases:info", "v2", "-a", "hello")
    assert (info["version"], info["summary"]) == (2, "ada deployed example/web:v1")
    assert "=== hello Release v3" in deployed("releases:info", "3", "-a", "hello").stdout
    assert deployed("releases:info", "v9", "-a", "hello", code=1).stderr == "Error: release v9 of hello not found\n"

    result = deployed("rollback", "-a", "hello")
    assert result.stderr.startswith("Rolling back one release... done in ") and result.stderr.endswith(", v4\n")
    assert "A" not in deployed.json("config", "-a", "hello")
    result = deployed("releases:rollback", "v3", "-a", "hello")
    assert result.stderr.startswith("Rolling back to v3... done in ") and result.stderr.endswith(", v5\n")
    assert deployed.json("config", "-a", "hello")["A"] == "1"
    assert deployed("rollback", "v1", "-a", "hello", code=1).stderr.endswith(
        "Error: Cannot roll back to initial release.\n")


def test_run_prints_the_output_and_exits_with_the_command_exit_code(deployed):
    result = deployed("run", "-a", "hello", "exit", "3", code=3)
    assert result.stdout == "hello v2 ran: exit 3\n"
    assert result.stderr == "Running 'exit 3'...\n"
    result = deployed("run", "-a", "hello", "ls", "-la", "/app")
    assert result.stdout == "hello v2 ran: ls -la /app\n"
    assert [c.args["command"] for c in recorder.calls("run")] == ["exit 3", "ls -la /app"]


def test_run_without_a_build(hello, worker):
    assert hello("run", "-a", "hello", "ls", code=1).stderr.endswith(
        "Error: No build associated with this release to run this command\n")


def test_every_list_and_info_command_prints_json(deployed):
    deployed("domains:add", "www.example.com", "-a", "hello")
    for args in (("apps",), ("info", "-a", "hello"), ("builds", "-a", "hello"), ("releases", "-a", "hello"),
                 ("releases:info", "v1", "-a", "hello"), ("ps", "-a", "hello"), ("config", "-a", "hello"),
                 ("limits", "-a", "hello"), ("healthchecks", "-a", "hello"), ("domains", "-a", "hello"),
                 ("perms", "-a", "hello"), ("perms", "--admin"), ("keys",), ("certs",), ("users",),
                 ("whoami",), ("routing:info", "-a", "hello"), ("maintenance:info", "-a", "hello"),
                 ("whitelist", "-a", "hello"), ("tls", "-a", "hello"), ("tags", "-a", "hello"),
                 ("labels", "-a", "hello"), ("registry", "-a", "hello")):
        result = deployed(*args, "--json")
        json.loads(result.stdout)
        assert result.stderr == ""
