"""A pushed Dockerfile may start only from images its app may deploy, and may not ADD URLs (the engine would
fetch them from inside the platform: the registry, flower and Redis listen on its loopback)."""
import pytest

from workers.build.dockerfile_rules import Refused, check, instructions

REGISTRY = "127.0.0.1:5000"


@pytest.mark.parametrize("text, line", [
    ("FROM pier/base:bookworm\nADD http://127.0.0.1:5555/api/workers /x\n", 2),
    ("FROM pier/base:bookworm\nADD --chown=1:1 https://example.com/a.tgz /x\n", 2),
    ('FROM pier/base:bookworm\nADD ["http://127.0.0.1:5000/v2/_catalog", "/x"]\n', 2),
    ("FROM pier/base:bookworm\nARG U=http://127.0.0.1:6379/\nADD $U /x\n", 3),
    ("FROM 127.0.0.1:5000/victim:git-1234abcd\n", 1),
    ("FROM localhost:5000/victim\n", 1),
    ("FROM cc3d\n", 1),
    ("ARG BASE=127.0.0.1:5000/victim\nFROM $BASE\n", 2),
    ("ARG BASE\nFROM ${BASE:-127.0.0.1:5000/victim}\n", 2),
    ("FROM pier/base:bookworm\nCOPY --from=127.0.0.1:5000/victim:latest /app /app\n", 2),
    ("FROM pier/base:bookworm\nCOPY \\\n  --from=sha256:0123456789abcdef \\\n  /etc/passwd /x\n", 2),
])
def test_what_a_build_may_not_do_is_refused_naming_the_line(text, line):
    with pytest.raises(Refused, match=f"line {line}:"):
        check(text, "mine", REGISTRY)


@pytest.mark.parametrize("text", [
    "FROM pier/base:bookworm AS build\nRUN make\nFROM build\nCOPY --from=build /out /out\nCOPY --from=0 /a /b\n",
    "FROM 127.0.0.1:5000/mine:git-1234abcd\nADD local.tar.gz /app\n",
    "# ADD http://example.com/commented-out\nFROM scratch\nCOPY . /\n",
    "ARG PYTHON=3.11\nFROM python:${PYTHON}-slim\n",
])
def test_ordinary_dockerfiles_pass(text):
    check(text, "mine", REGISTRY)


def test_build_args_from_config_decide_variables_too():
    with pytest.raises(Refused):
        check("ARG BASE=pier/base:bookworm\nFROM $BASE\n", "mine", REGISTRY, {"BASE": "127.0.0.1:5000/victim"})


def test_continuation_lines_are_one_instruction():
    assert instructions("FROM a\nRUN one \\\n  # comment\n  two\n") == [("FROM", "a", 1), ("RUN", "one  two", 2)]
