"""apps:* and git:remote: creating with and without a git repository, listing, info, destroy, transfer."""
import pytest

from tests.cli.conftest import PASSWORD, git

NO_APP = 'Error: no app given; use -a <app> or run inside a git repository with a "pier" remote\n'


@pytest.fixture
def repository(home):
    git("init", "-q", ".")
    return home


def test_create_inside_a_git_repository_adds_the_pier_remote(logged_in, repository):
    result = logged_in("create", "hello")
    assert result.stderr == "Creating application... done, created hello\n"
    url = "ssh://git@127.0.0.1:2222/hello.git"
    assert result.stdout == f"Git remote pier added: {url}\n"
    assert git("remote", "get-url", "pier") == url
    info = logged_in.json("info")  # no -a: the app comes from the remote
    assert info["app"]["id"] == "hello" and info["app"]["owner"] == "ada"
    assert "=== hello Application" in logged_in("apps:info").stdout


def test_create_with_another_remote_name_and_builder_port(logged_in, repository, monkeypatch):
    monkeypatch.setenv("PIER_BUILDER_PORT", "2022")
    logged_in("apps:create", "hello", "--remote", "staging")
    assert git("remote", "get-url", "staging") == "ssh://git@127.0.0.1:2022/hello.git"
    assert git("remote") == "staging"
    assert logged_in("config", code=1).stderr == NO_APP


def test_create_with_no_remote_and_a_buildpack(logged_in, repository):
    result = logged_in("create", "hello", "--no-remote", "--buildpack", "https://github.com/heroku/heroku-buildpack-go")
    assert "Setting BUILDPACK_URL... done" in result.stderr
    assert git("remote") == ""
    values = logged_in.json("config:list", "-a", "hello")
    assert values["BUILDPACK_URL"] == "https://github.com/heroku/heroku-buildpack-go"


def test_create_outside_a_repository_and_with_a_generated_name(logged_in):
    result = logged_in("create")
    name = result.stderr.rsplit("created ", 1)[1].strip()
    assert "Git remote" not in result.output
    assert [a["id"] for a in logged_in.json("apps")] == [name]
    assert logged_in("info", code=1).stderr == NO_APP


def test_duplicate_and_invalid_names(hello):
    assert hello("create", "hello", code=1).stderr.endswith("Error: App with this id already exists.\n")
    assert "Error: id: " in hello("create", "Bad_Name", code=1).stderr


def test_list_info_and_unknown_app(hello):
    hello("create", "world")
    assert hello("apps").stdout == "=== Apps\nhello\nworld\n"
    assert [a["id"] for a in hello.json("apps:list")] == ["hello", "world"]
    assert hello("apps:list", "--limit", "1").stdout == "=== Apps (1 of 2)\nhello\n"
    info = hello("info", "-a", "hello").stdout
    assert "owner:" in info and "ada" in info and "url:" in info and "http://hello.localhost" in info
    assert "=== hello Domains\nhello\n" in info
    assert hello("info", "-a", "missing", code=1).stderr == "Error: app missing not found\n"


def test_destroy_needs_the_app_name_and_removes_the_remote(hello, repository, worker):
    hello("git:remote", "-a", "hello")
    result = hello("destroy", input="nope\n", code=1)
    assert "Error: app hello not destroyed: the confirmation did not match" in result.stderr
    assert hello("apps").stdout == "=== Apps\nhello\n"
    result = hello("apps:destroy", "--confirm", "hello")
    assert "Destroying hello... done in " in result.stderr
    assert "Git remote pier removed" in result.stdout
    assert git("remote") == ""
    assert hello("apps").stdout == "=== Apps\n"


def test_git_remote_adds_then_updates(hello, repository, monkeypatch):
    assert hello("git:remote", "-a", "hello").stdout == "Git remote pier added: ssh://git@127.0.0.1:2222/hello.git\n"
    monkeypatch.setenv("PIER_BUILDER_PORT", "2200")
    assert hello("git:remote", "-a", "hello").stdout == "Git remote pier updated: ssh://git@127.0.0.1:2200/hello.git\n"
    assert hello("git:remote", "-a", "missing", code=1).stderr == "Error: app missing not found\n"


def test_git_remote_outside_a_repository(hello):
    assert hello("git:remote", "-a", "hello", code=1).stderr == (
        "Error: not inside a git repository; run git init first\n")


def test_transfer_gives_the_app_away(hello):
    hello("register", hello.controller, "--username", "bob", "--password", PASSWORD, "--email", "bob@example.com")
    assert "Transferring hello to bob... done" in hello("apps:transfer", "bob", "-a", "hello").stderr
    assert hello.json("info", "-a", "hello")["app"]["owner"] == "bob"
    assert hello("apps:transfer", "nobody", "-a", "hello", code=1).stderr.endswith("Error: user nobody not found\n")


def test_open_launches_the_app_url(hello, monkeypatch):
    opened = []
    monkeypatch.setattr("click.launch", lambda url: opened.append(url) or 0)
    monkeypatch.setenv("PIER_DOMAIN", "apps.example.com")
    assert hello("open", "-a", "hello").stdout == "Opening http://hello.apps.example.com\n"
    assert opened == ["http://hello.apps.example.com"]


def test_logs_show_platform_events(hello):
    hello("config:set", "A=1", "-a", "hello")
    logs = hello("logs", "-a", "hello").stdout
    assert "pier[controller]" in logs
    assert len(hello("logs", "-a", "hello", "-n", "1").stdout.splitlines()) == 1


def test_autoscale_set_list_and_unset(hello):
    assert hello("autoscale:list", "-a", "hello").stdout == "=== hello Autoscale\nNo autoscale rules found.\n"
    result = hello("autoscale:set", "web", "--min", "1", "--max", "5", "--cpu-percent", "70", "-a", "hello")
    assert result.stderr == "Applying autoscale settings for process type web on hello... done\n"
    hello("autoscale:set", "worker", "--min=2", "--max=3", "--cpu-percent=50", "-a", "hello")  # Deis' spelling
    assert hello.json("autoscale:list", "-a", "hello") == {"web": {"min": 1, "max": 5, "cpu_percent": 70},
                                                          "worker": {"min": 2, "max": 3, "cpu_percent": 50}}
    assert hello("autoscale", "-a", "hello").stdout == (
        "=== hello Autoscale\n\n--- web:\nMin Replicas: 1\nMax Replicas: 5\nCPU: 70%\n"
        "\n--- worker:\nMin Replicas: 2\nMax Replicas: 3\nCPU: 50%\n")
    bad = hello("autoscale:set", "web", "--min", "6", "--max", "5", "--cpu-percent", "70", "-a", "hello", code=1)
    assert "web: need 1 <= min <= max <= 100 (PIER_MAX_REPLICAS)." in bad.stderr
    assert "Missing option '--cpu-percent'" in hello("autoscale:set", "web", "--min", "1", "--max", "2",
                                                     "-a", "hello", code=2).stderr
    result = hello("autoscale:unset", "web", "-a", "hello")
    assert result.stderr == "Removing autoscale for process type web on hello... done\n"
    assert list(hello.json("autoscale:list", "-a", "hello")) == ["worker"]
    assert "web does not exist under autoscale" in hello("autoscale:unset", "web", "-a", "hello", code=1).stderr