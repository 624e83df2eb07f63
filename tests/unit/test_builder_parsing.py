"""What the builder accepts from git clients and pushes: commands, refs, Procfiles, bin/release output."""
import pytest

from sshd import commands
from sshd.receive import PushRefused, pushed_commit
from workers.build import BuildFailed, procfile
from workers.build.buildpack import default_process_types

SHA = "a" * 40


@pytest.mark.parametrize("raw, expected", [
    (b"git-receive-pack 'myapp.git'", ("git-receive-pack", "myapp")),
    (b"git-receive-pack '/myapp.git'", ("git-receive-pack", "myapp")),
    (b"git-upload-pack '/my-app-2.git'", ("git-upload-pack", "my-app-2")),
])
def test_git_commands_name_the_app(raw, expected):
    assert commands.parse(raw) == expected


@pytest.mark.parametrize("raw", [
    b"ls", b"git-receive-pack myapp.git", b"git-receive-pack '../etc.git'", b"git-receive-pack '/a/b.git'",
    b"git-receive-pack 'myapp'", b"git-receive-pack 'MyApp.git'", b"git-receive-pack 'app.git'; rm -rf /",
    b"git-upload-archive 'myapp.git'", b"git-receive-pack '-x.git'", b"\xff\xfe", b"git-receive-pack '.git'",
    b"git-receive-pack 'a" + b"b" * 70 + b".git'",
])
def test_anything_else_is_refused_with_a_message(raw):
    with pytest.raises(commands.Refused) as refused:
        commands.parse(raw)
    assert "Pier" in str(refused.value) or "git push" in str(refused.value)


def test_main_and_master_deploy_other_branches_are_refused():
    assert pushed_commit([f"{'0' * 40} {SHA} refs/heads/main"]) == SHA
    assert pushed_commit([f"{'1' * 40} {SHA} refs/heads/master"]) == SHA
    with pytest.raises(PushRefused, match="main or master only; refs/heads/feature"):
        pushed_commit([f"{'0' * 40} {SHA} refs/heads/feature"])
    with pytest.raises(PushRefused, match="Deleting refs/heads/main"):
        pushed_commit([f"{SHA} {'0' * 40} refs/heads/main"])
    with pytest.raises(PushRefused, match="main or master only; refs/tags/v1"):
        pushed_commit([f"{'0' * 40} {SHA} refs/heads/main", f"{'0' * 40} {SHA} refs/tags/v1"])


def test_procfiles_parse_like_heroku_reads_them():
    text = "web: python3 server.py --port $PORT\r\n# a comment\n\nworker:python3 worker.py\nclock: sh -c 'a: b'\n"
    assert procfile.parse(text) == {"web": "python3 server.py --port $PORT", "worker": "python3 worker.py",
                                    "clock": "sh -c 'a: b'"}


@pytest.mark.parametrize("text, words", [
    ("web python3 server.py", "line 1"), ("web:", "line 1"), ("Web_1: x", "line 1"), ("x" * 70000, "64 KiB"),
])
def test_bad_procfiles_say_which_line(text, words):
    with pytest.raises(ValueError, match=words):
        procfile.parse(text)


def test_bin_release_default_process_types():
    assert default_process_types("---\naddons: []\ndefault_process_types:\n  web: python3 serve.py\n") == \
        {"web": "python3 serve.py"}
    assert default_process_types("---\ndefault_process_types: {}\n") == {}
    assert default_process_types("") == {}
    with pytest.raises(BuildFailed, match="invalid YAML"):
        default_process_types("default_process_types: [unclosed")
