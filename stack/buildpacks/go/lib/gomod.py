"""Facts about a Go module for the Go buildpack, from Go's own reading of go.mod (`go mod edit -json`).

    go mod edit -json | python3 gomod.py STACK_GO_VERSION   prints `module PATH`, `go VERSION`, `requires N`,
                                                            or one line saying what to change (exit code 1)
    python3 gomod.py --binary IMPORT_PATH                   prints the binary name `go build` would choose
go.mod is user input: the module path becomes a file name, so it is checked here.
"""
import json
import re
import sys

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def version(text):
    """(1, 22, 3) from "1.22.3", "1.22" or "1.23rc1"; None when it is not a Go version."""
    match = re.fullmatch(r"1\.(\d+)(?:\.(\d+))?(?:(?:rc|beta)\d+)?", text or "")
    return (1, int(match.group(1)), int(match.group(2) or 0)) if match else None


def binary(import_path):
    """As `go build`: the last path element, or the one before a major version suffix such as /v2."""
    parts = import_path.rstrip("/").split("/")
    if len(parts) > 1 and re.fullmatch(r"v[0-9]+", parts[-1]):
        return parts[-2]
    return parts[-1]


def facts(described, stack_go):
    module = (described.get("Module") or {}).get("Path") or ""
    if not module:
        return "go.mod has no module line: start it with `module example.com/yourapp`"
    if not NAME.fullmatch(binary(module)):
        return f"go.mod's module path {module[:120]!r} does not end in a usable program name"
    wanted = described.get("Go") or ""
    if wanted and version(wanted) is None:
        return f"go.mod's go line {wanted[:40]!r} is not a Go version such as 1.22"
    if wanted and version(wanted) > version(stack_go):
        series = ".".join(stack_go.split(".")[:2])
        return (f"go.mod asks for go {wanted} (its go line), and this stack has Go {stack_go} only: change the go "
                f"line to {series} or lower, or set BUILDPACK_URL to a buildpack that installs Go")
    return f"module {module}\ngo {wanted}\nrequires {len(described.get('Require') or [])}"


def main(argv):
    if argv[1:2] == ["--binary"]:
        print(binary(argv[2]))
        return 0
    try:
        described = json.load(sys.stdin)
    except ValueError:
        print("go.mod could not be read: `go mod edit -json` did not describe it")
        return 1
    answer = facts(described, argv[1])
    print(answer)
    return 0 if answer.startswith("module ") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
