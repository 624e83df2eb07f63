"""`make run` installs requirements.txt only: the runtime set must not carry test or benchmark tools."""
import pathlib

TOP = pathlib.Path(__file__).resolve().parents[2]
TEST_TOOLS = {"pytest", "pytest-timeout", "pytest-xdist", "moto", "schemathesis", "hypothesis", "responses",
              "cfn-lint", "sympy", "networkx", "aws-xray-sdk", "kubernetes-validate"}


def pinned(name):
    lines = (TOP / name).read_text().splitlines()
    return {line.split("==")[0].lower(): line.split("==")[1] for line in lines if "==" in line}


def test_the_runtime_set_has_no_test_tools():
    assert sorted(TEST_TOOLS & set(pinned("requirements.txt"))) == []


def test_every_requirement_is_pinned_and_the_test_set_builds_on_the_runtime_set():
    for name in ("requirements.txt", "requirements-dev.txt"):
        lines = [line for line in (TOP / name).read_text().splitlines() if line and not line.startswith("#")]
        assert all("==" in line or line == "-r requirements.txt" for line in lines), name
    assert "-r requirements.txt" in (TOP / "requirements-dev.txt").read_text().splitlines()
    assert not set(pinned("requirements.txt")) & set(pinned("requirements-dev.txt"))
    assert {"pytest", "moto", "schemathesis"} <= set(pinned("requirements-dev.txt"))
