"""git push (Dockerfile and buildpack), pull, config, scale, restart, releases, run and logs, end to end."""
import json
import shutil
import subprocess
import time
from pathlib import Path

from tests.e2e.users import web_app
from tests.support.docker_apps import build_images
from tests.support.waiting import wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(user, name, app):
    """A copy of examples/<name> committed in a git repository, with the app created from inside it."""
    repo = user.home / name
    shutil.copytree(EXAMPLES / name, repo)
    user.git(repo, "init", "-q", "-b", "main")
    user.commit(repo, {})
    user.ok("create", app, cwd=repo)
    return repo


def test_the_dockerfile_example_deploys_and_a_second_push_changes_it(platform, ada):
    repo = example(ada, "dockerfile-app", "hello-docker")
    code, output = ada.git_push(repo)
    assert code == 0, output
    assert "Done, hello-docker:v2 deployed to Pier" in output
    # "Done" means routed: the deploy waited for the router to take the new containers
    assert platform.get("hello-docker") == (200, "Hello from a Dockerfile app on Pier\n")
    server = (repo / "server.py").read_text().replace("'Hello'", "'Howdy'")
    ada.commit(repo, {"server.py": server})
    assert ada.git_push(repo)[0] == 0
    assert wait_for(lambda: platform.get("hello-docker") == (200, "Howdy from a Dockerfile app on Pier\n"))


def test_the_python_example_deploys_with_the_buildpack(platform, ada):
    repo = example(ada, "python-app", "hello-python")
    code, output = ada.git_push(repo)
    assert code == 0, output
    assert "Python app detected" in output
    assert wait_for(lambda: platform.get("hello-python") == (200, "Hello from a Python app on Pier\n"))
    ada.ok("config:set", "GREETING=Bonjour", cwd=repo)
    assert wait_for(lambda: platform.get("hello-python") == (200, "Bonjour from a Python app on Pier\n"))


def test_bad_pushes_fail_and_the_running_release_keeps_serving(platform, ada):
    repo = ada.repo("sturdy", web_app("sturdy v1"))
    ada.ok("create", "sturdy", cwd=repo)
    assert ada.git_push(repo)[0] == 0
    ada.commit(repo, {"Dockerfile": "FROM pier/base:bookworm\nBOGUS line\n"})
    code, output = ada.git_push(repo)
    assert code != 0 and "unknown instruction: bogus" in output.lower()
    ada.commit(repo, {"Dockerfile": web_app("")["Dockerfile"]})
    ada.git(repo, "rm", "-q", "Dockerfile")
    ada.commit(repo, {"requirements.txt": "\n", "Procfile": "web: python3 server.py\n"})
    ada.ok("config:set", "BUILDPACK_URL=https://127.0.0.1:9/missing.git", cwd=repo)
    code, output = ada.git_push(repo)
    assert code != 0 and "Could not fetch buildpack https://127.0.0.1:9/missing.git" in output
    assert wait_for(lambda: platform.get("sturdy") == (200, "sturdy v1"))


def test_a_concurrent_push_is_refused(platform, ada):
    slow = web_app(f"slow {time.time()}")
    slow["Dockerfile"] = slow["Dockerfile"].replace("EXPOSE", f"RUN echo {time.time()} && sleep 8\nEXPOSE")
    repo = ada.repo("racy", slow)
    ada.ok("create", "racy", cwd=repo)
    first = subprocess.Popen(["git", "push", "pier", "main"], cwd=repo, env=ada.env(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    time.sleep(3)
    code, output = ada.git_push(repo)
    assert code == 128 and "Another git push is ongoing" in output
    output, _ = first.communicate(timeout=600)
    assert first.returncode == 0, output


def test_pull_an_image_and_a_missing_one(platform, ada):
    build_images()
    ada.ok("apps:create", "pulled", "--no-remote")
    out = ada.ok("pull", "pier-test/web:one", "-a", "pulled")
    assert wait_for(lambda: platform.get("pulled") == (200, "one"))
    out = ada.fails("pull", "127.0.0.1:5000/pulled:missing", "-a", "pulled")
    assert "not found or not pullable" in out
    assert wait_for(lambda: platform.get("pulled") == (200, "one"))


CONFIG_VALUES = {"SPACED": "a value with  spaces", "NULLISH": "null", "UNICODE": "héllo wörld ✓",
                 "EQUALS": "a=b=c"}


def app_env(platform, app):
    """The environment the app's serving container reports at /env (empty while none answers)."""
    status, body = platform.get(app, "/env")
    return json.loads(body) if status == 200 else {}


def seen_by(platform, app, values):
    seen = app_env(platform, app)
    return all(seen.get(k) == v for k, v in values.items())


def test_config_set_unset_pull_push_and_what_the_app_sees(platform, ada, tmp_path):
    ada.ok("apps:create", "configured", "--no-remote")
    ada.ok("pull", "pier-test/web:one", "-a", "configured")
    ada.ok("config:set", *(f"{k}={v}" for k, v in CONFIG_VALUES.items()), "MULTI=line one\nline two",
           "-a", "configured")
    listed = json.loads(ada.pier("config:list", "-a", "configured", "--json")[1])
    assert {k: listed[k] for k in CONFIG_VALUES} == CONFIG_VALUES and listed["MULTI"] == "line one\nline two"
    expected = dict(CONFIG_VALUES, MULTI="line one\nline two")
    assert wait_for(lambda: seen_by(platform, "configured", expected))
    ada.ok("config:unset", "SPACED", "-a", "configured")
    assert wait_for(lambda: "EQUALS" in (seen := app_env(platform, "configured")) and "SPACED" not in seen)
    workdir = tmp_path / "dotenv"
    workdir.mkdir()
    ada.ok("config:pull", "-a", "configured", cwd=workdir)
    assert "UNICODE" in (workdir / ".env").read_text()
    (workdir / ".env").write_bytes(b"FROM_FILE=crlf value\r\nANOTHER=two\r\n")
    ada.ok("config:push", "-a", "configured", cwd=workdir)
    assert wait_for(lambda: seen_by(platform, "configured", {"FROM_FILE": "crlf value", "ANOTHER": "two"}))
    out = ada.ok("run", "-a", "configured", "printenv UNICODE")
    assert "héllo wörld ✓" in out


def test_run_exit_codes_quotes_and_missing_commands(ada):
    ada.ok("apps:create", "runner", "--no-remote")
    ada.ok("pull", "pier-test/web:one", "-a", "runner")
    assert "ünïcode \"quoted\" --dashes" in ada.ok("run", "-a", "runner", "--", "echo 'ünïcode \"quoted\" --dashes'")
    code, _, _ = ada.pier("run", "-a", "runner", "exit 3")
    assert code == 3
    code, out, err = ada.pier("run", "-a", "runner", "no-such-command-here")
    assert code == 127 and "not found" in out + err


def test_scale_restart_releases_rollback_and_logs(platform, ada):
    repo = ada.repo("scaled", web_app("release one"))
    ada.ok("create", "scaled", cwd=repo)
    assert ada.git_push(repo)[0] == 0
    ada.commit(repo, {"default.txt": "release two"})
    assert ada.git_push(repo)[0] == 0
    assert wait_for(lambda: platform.get("scaled") == (200, "release two"))
    out = ada.ok("ps:scale", "cmd=3", cwd=repo)
    assert "done" in out
    assert len([p for p in json.loads(ada.pier("ps:list", "--json", cwd=repo)[1]) if p["type"] == "cmd"]) == 3
    ada.ok("ps:scale", "cmd=0", cwd=repo)
    assert wait_for(lambda: platform.get("scaled")[0] == 503)
    ada.ok("ps:scale", "cmd=1", cwd=repo)
    assert wait_for(lambda: platform.get("scaled") == (200, "release two"))
    ada.ok("ps:restart", cwd=repo)
    ada.ok("ps:restart", "cmd", cwd=repo)
    [pod] = json.loads(ada.pier("ps:list", "--json", cwd=repo)[1])
    ada.ok("ps:restart", pod["name"], cwd=repo)
    assert wait_for(lambda: platform.get("scaled") == (200, "release two"))
    assert "v3" in ada.ok("releases:list", cwd=repo)
    assert "release" in ada.ok("releases:info", "v2", cwd=repo).lower()
    ada.ok("releases:rollback", "v2", cwd=repo)
    assert wait_for(lambda: platform.get("scaled") == (200, "release one"))
    logs = ada.ok("logs", cwd=repo)
    assert "deployed" in logs and "rolled back" in logs
