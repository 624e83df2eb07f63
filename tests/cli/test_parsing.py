"""Pure functions of the client: .env files, git remote URLs, Procfiles, key names, probes, error bodies."""
import pytest

from cli import envfile, remote
from cli.client import CliError, describe
from cli.commands.builds import parse_procfile
from cli.commands.healthchecks import build_probe
from cli.commands.keys import key_name
from cli.options import parse_pairs

NO_TIMINGS = dict.fromkeys(("initial_delay", "timeout", "period", "success_threshold", "failure_threshold"))


@pytest.mark.parametrize("values", [
    {"A": "plain", "B": "two words", "C": "x=y=z", "D": "line\nbreak\r\n", "E": "null", "F": "",
     "G": "ünïcödé ✓", "H": "'\"$`\\#", "I": "  padded  ", "J": "\ttab"},
    {},
])
def test_render_then_parse_is_the_identity(values):
    assert envfile.parse(envfile.render(values)) == values


def test_render_quotes_only_what_needs_it():
    assert envfile.render({"B": "x=y", "A": "a b", "C": "日本"}) == 'A="a b"\nB=x=y\nC=日本\n'


def test_parse_understands_what_people_write():
    text = ("\ufeff# comment\r\n\r\nexport A=1\r\nB = two words \r\nC=\"multi\nline \\\"q\\\"\"  # note\r\n"
            "D='lit\\n'\nE=#not-a-comment\n")
    assert envfile.parse(text) == {"A": "1", "B": "two words", "C": 'multi\nline "q"', "D": "lit\\n",
                                   "E": "#not-a-comment"}


@pytest.mark.parametrize("text, message", [
    ("A=1\nJUSTAKEY\n", "line 2: expected KEY=value"),
    ('A="open\n', "line 1: the double quote is never closed"),
    ("A='open\n", "line 1: the single quote is never closed"),
    ('A="x" y\n', "line 1: unexpected text after the closing quote"),
    ("A=1\nB=\"two\nlines\"\nbad line\n", "line 4: expected KEY=value"),
])
def test_parse_names_the_bad_line(text, message):
    with pytest.raises(envfile.EnvFileError, match=message):
        envfile.parse(text)


@pytest.mark.parametrize("url, expected", [
    ("ssh://git@pier.example.com:2222/hello.git", "hello"),
    ("ssh://git@127.0.0.1:2222/my-app.git/", "my-app"),
    ("ssh://git@[::1]:2222/hello.git", "hello"),
    ("git@pier.example.com:hello.git", "hello"),
    ("https://github.com/org/hello.git", None),
    ("ssh://git@host:2222/Bad_Name.git", None),
    ("/srv/git/hello.git", None),
])
def test_app_from_remote_url(url, expected):
    assert remote.app_from_url(url) == expected


def test_builder_url():
    assert remote.builder_url("https://pier.example.com", "hello", 2222) == "ssh://git@pier.example.com:2222/hello.git"
    assert remote.builder_url("http://[::1]:8000", "hello", 22) == "ssh://git@[::1]:22/hello.git"


def test_pairs_keep_everything_after_the_first_equals():
    assert parse_pairs(["A=1", "B=x=y", "C=", "D= spaced "]) == {"A": "1", "B": "x=y", "C": "", "D": " spaced "}
    for bad in ("A", "=1"):
        with pytest.raises(CliError):
            parse_pairs([bad])


def test_procfile():
    assert parse_procfile("# c\nweb: ./server --port $PORT\r\nworker:python w.py\n\n", "Procfile") == {
        "web": "./server --port $PORT", "worker": "python w.py"}
    with pytest.raises(CliError, match="Procfile line 1"):
        parse_procfile("just a command\n", "Procfile")


def test_key_name_is_the_comment_or_the_file_name():
    assert key_name("ssh-ed25519 AAAA ada@laptop", "/x/id_ed25519.pub") == "ada@laptop"
    assert key_name("ssh-ed25519 AAAA", "/x/id_ed25519.pub") == "id_ed25519"
    assert key_name("ssh-rsa AAAA my key", "/x/work key.pub") == "my"


def test_probes():
    assert build_probe("tcpSocket", ["5000"], "/", (), NO_TIMINGS) == {"tcpSocket": {"port": 5000}}
    assert build_probe("httpGet", ["http"], "/up", (), dict(NO_TIMINGS, timeout=3)) == {
        "httpGet": {"path": "/up", "port": "http"}, "timeoutSeconds": 3}
    with pytest.raises(CliError, match="Name:Value"):
        build_probe("httpGet", ["80"], "/", ("nocolon",), NO_TIMINGS)


def test_error_bodies_become_one_line():
    assert describe("No App matches the given query.") == "No App matches the given query."
    assert describe({"detail": "Server Error", "request_id": "abc"}) == "Server Error (request id abc)"
    assert describe({"username": ["Taken.", "Too long."], "email": ["Bad."]}) == (
        "username: Taken. Too long.; email: Bad.")
    assert describe({"non_field_errors": ["Unable to log in with provided credentials."]}) == (
        "Unable to log in with provided credentials.")
