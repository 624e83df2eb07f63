"""config:* against the real controller: awkward values survive set, list, pull and push unchanged."""
import json
import stat

from cli import envfile

AWKWARD = {
    "GREETING": "hello world",
    "DATABASE_URL": "postgres://u:p@db/app?sslmode=require&a=b",
    "EQUALS": "a=b=c",
    "MULTI": "line one\nline two\n",
    "NOTHING": "null",
    "UNICODE": "héllo wörld ✓ 日本",
    "QUOTES": "it's \"quoted\" $HOME `x` \\ # not a comment",
    "EMPTY": "",
}


def user_values(pier, app="hello"):
    values = pier.json("config:list", "-a", app)
    return {k: v for k, v in values.items() if k not in ("DEIS_APP", "DEIS_RELEASE")}


def test_set_keeps_every_character_after_the_first_equals(hello):
    result = hello("config:set", *(f"{k}={v}" for k, v in AWKWARD.items()), "-a", "hello")
    assert result.stderr == "Creating config... done\n"
    assert "=== hello Config" in result.stdout and "GREETING" in result.stdout
    assert user_values(hello) == AWKWARD
    releases = hello.json("releases", "-a", "hello")
    assert [r["version"] for r in releases] == [2, 1]


def test_list_formats(hello):
    hello("config:set", "B=two words", "A=1", "-a", "hello")
    listing = hello("config", "-a", "hello").stdout
    lines = listing.splitlines()
    assert lines[0] == "=== hello Config"
    assert lines[1].split() == ["A", "1"] and lines[2].split() == ["B", "two", "words"]
    assert hello("config:list", "--oneline", "-a", "hello").stdout == (
        "A=1 B='two words' DEIS_APP=hello DEIS_RELEASE=v2\n")


def test_unset(hello):
    hello("config:set", "A=1", "B=2", "-a", "hello")
    assert hello("config:unset", "A", "-a", "hello").stderr == "Removing config... done\n"
    assert user_values(hello) == {"B": "2"}


def test_invalid_and_unchanged_config_report_the_api_message(hello):
    result = hello("config:set", "1BAD=x", "-a", "hello", code=1)
    assert result.stderr.startswith("Creating config... failed\nError: values: Config keys must start with")
    assert hello("config:set", "PORT=http", "-a", "hello", code=1).stderr.endswith(
        "Error: values: PORT must be a number from 1 to 65535.\n")
    hello("config:set", "A=1", "-a", "hello")
    assert hello("config:set", "A=1", "-a", "hello", code=1).stderr.endswith(
        "Error: ada changed nothing - release stopped\n")
    assert hello("config:set", "NOEQUALS", "-a", "hello", code=1).stderr == (
        "Error: expected KEY=value, got 'NOEQUALS'\n")
    assert hello("config:set", "A=1", "-a", "nothere", code=1).stderr.endswith("Error: app nothere not found\n")


def test_pull_writes_a_private_env_file_that_push_reads_back(hello, tmp_path):
    hello("config:set", *(f"{k}={v}" for k, v in AWKWARD.items()), "-a", "hello")
    assert hello("config:pull", "-a", "hello").stdout == "Wrote 8 variables of hello to .env\n"
    env = tmp_path / "work" / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    text = env.read_text(encoding="utf-8")
    assert "DEIS_APP" not in text and "NOTHING=null\n" in text
    assert envfile.parse(text) == AWKWARD
    assert hello("config:pull", "-a", "hello", code=1).stderr == (
        "Error: .env already exists; pass --overwrite to replace it\n")

    hello("create", "copy", "--no-remote")
    hello("config:push", "-a", "copy")
    assert user_values(hello, "copy") == AWKWARD
    hello("config:pull", "-a", "copy", "--overwrite", "-o", "copy.env")
    assert (tmp_path / "work" / "copy.env").read_text(encoding="utf-8") == text


def test_push_reads_crlf_quotes_comments_and_export(hello, tmp_path):
    (tmp_path / "work" / "prod.env").write_bytes(
        "\ufeff# production\r\nexport A=1\r\nB = spaced value  \r\n\r\nC=\"two\\nlines\"\r\n"
        "D='single '\r\nE=ünïcödé\r\nF=x=y\r\nG=null\r\n".encode())
    result = hello("config:push", "-p", "prod.env", "-a", "hello")
    assert result.stderr == "Creating config... done\n"
    assert user_values(hello) == {"A": "1", "B": "spaced value", "C": "two\nlines", "D": "single ", "E": "ünïcödé",
                                  "F": "x=y", "G": "null"}


def test_push_reports_a_bad_line(hello, tmp_path):
    (tmp_path / "work" / ".env").write_text("A=1\nnot a pair\n")
    assert hello("config:push", "-a", "hello", code=1).stderr == (
        "Error: .env line 2: expected KEY=value, got 'not a pair'\n")
    assert hello("config:push", "-p", "missing.env", "-a", "hello", code=1).stderr == (
        "Error: cannot read missing.env: No such file or directory\n")


def test_json_is_the_values_object(hello):
    hello("config:set", "A=1", "-a", "hello")
    assert json.loads(hello("config", "-a", "hello", "--json").stdout) == {
        "A": "1", "DEIS_APP": "hello", "DEIS_RELEASE": "v2"}


def test_limits_set_and_unset(hello):
    result = hello("limits:set", "web=512M", "worker=256M/1G", "-a", "hello")
    assert result.stderr == "Applying limits... done\n"
    assert "--- Memory" in result.stdout and "512M" in result.stdout
    hello("limits:set", "--cpu", "web=500m", "-a", "hello")
    assert hello.json("limits", "-a", "hello") == {"memory": {"web": "512M", "worker": "256M/1G"},
                                                   "cpu": {"web": "500m"}}
    hello("limits:unset", "worker", "-a", "hello")
    hello("limits:unset", "-c", "web", "-a", "hello")
    assert hello.json("limits:list", "-a", "hello") == {"memory": {"web": "512M"}, "cpu": {}}
    assert "Error: memory: " in hello("limits:set", "web=lots", "-a", "hello", code=1).stderr
    assert hello("limits:unset", "nothing", "-a", "hello", code=1).stderr.endswith(
        "Error: nothing does not exist under memory\n")


def test_healthchecks_set_and_unset(hello):
    hello("healthchecks:set", "readiness", "httpGet", "8000", "--path", "/health", "--header", "X-Check: yes",
          "--period-seconds", "5", "-a", "hello")
    hello("healthchecks:set", "liveness", "exec", "--type", "web", "-a", "hello", "--", "cat", "/tmp/ok")
    checks = hello.json("healthchecks", "-a", "hello")
    assert checks == {"web": {
        "readinessProbe": {"httpGet": {"path": "/health", "port": 8000,
                                       "httpHeaders": [{"name": "X-Check", "value": "yes"}]}, "periodSeconds": 5},
        "livenessProbe": {"exec": {"command": ["cat", "/tmp/ok"]}}}}
    listing = hello("healthchecks:list", "-a", "hello").stdout
    assert "--- web Readiness\nHTTP GET http://:8000/health X-Check=yes (periodSeconds=5)" in listing
    hello("healthchecks:unset", "readiness", "-a", "hello")
    assert list(hello.json("healthchecks", "-a", "hello")["web"]) == ["livenessProbe"]
    hello("healthchecks:unset", "liveness", "-a", "hello")
    assert hello.json("healthchecks", "-a", "hello") == {}
    assert hello("healthchecks:unset", "liveness", "-a", "hello", code=1).stderr == (
        "Error: web has no liveness probe\n")
    assert hello("healthchecks:set", "liveness", "tcpSocket", "1", "2", "-a", "hello", code=1).stderr.startswith(
        "Error: tcpSocket takes exactly one argument")


def test_tags_and_registry(hello):
    hello("tags:set", "disk=ssd", "-a", "hello")
    assert hello.json("tags", "-a", "hello") == {"disk": "ssd"}
    hello("tags:unset", "disk", "-a", "hello")
    assert hello.json("tags", "-a", "hello") == {}
    assert "PORT must also be set" in hello("registry:set", "username=bot", "password=s3cret", "-a", "hello",
                                            code=1).stderr
    hello("config:set", "PORT=5000", "-a", "hello")
    result = hello("registry:set", "username=bot", "password=s3cret", "-a", "hello")
    assert "s3cret" not in result.output and "********" in result.stdout
    assert hello.json("registry", "-a", "hello") == {"username": "bot", "password": "********"}
    hello("registry:unset", "username", "password", "-a", "hello")
    assert hello.json("registry:list", "-a", "hello") == {}
