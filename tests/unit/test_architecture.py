"""The shape of the code: packages point one way, no module circles, and only services commit.

    core/                      the ground floor: models, services, settings, validators, adapters'
                               neutral protocols (endpoints, pods, logs, build output, storage, jobs)
    api/ workers/ sshd/ router/  stand on core and never import each other
    cli/                       talks to the API over HTTP only
"""
import ast
import pathlib

import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]
OURS = ("core", "api", "workers", "sshd", "router", "cli")
ALLOWED = {
    "core": {"core"},
    "api": {"api", "core"},
    "workers": {"workers", "core"},
    "sshd": {"sshd", "core"},
    "router": {"router", "core"},
    "cli": {"cli"},
}


def module_name(path):
    parts = list(path.relative_to(TOP).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path):
    """What `path` imports of ours, wherever the import statement stands (lazy ones too): (module, names)
    pairs, names empty for a plain `import module`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add((base, tuple(sorted(alias.name for alias in node.names))))
    return {(module, names) for module, names in found if module.split(".")[0] in OURS}


def graph():
    modules = {}
    for top in OURS:
        for path in (TOP / top).rglob("*.py"):
            modules[module_name(path)] = path
    edges = {}
    for name, path in modules.items():
        targets = set()
        for module, names in imports_of(path):
            # `from package import module` depends on that module (its package is only the way in)
            submodules = {f"{module}.{n}" for n in names if f"{module}.{n}" in modules}
            rest = [n for n in names if f"{module}.{n}" not in modules]
            if rest or not names:
                while module and module not in modules:
                    module = module.rpartition(".")[0]
                submodules.add(module)
            targets.update(t for t in submodules if t and t != name)
        edges[name] = targets
    return edges


EDGES = graph()


def wrong_imports(edges, package):
    return sorted(f"{source} imports {target}" for source, targets in edges.items()
                  if source.split(".")[0] == package for target in targets
                  if target.split(".")[0] not in ALLOWED[package])


@pytest.mark.parametrize("package", OURS)
def test_packages_import_only_their_own_floor_and_below(package):
    assert wrong_imports(EDGES, package) == []


def test_no_module_circles():
    circles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(EDGES.get(node, ())):
            if state.get(target) == "open":
                circles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for node in sorted(EDGES):
        if node not in state:
            visit(node, [node])
    assert circles == []


def test_the_architecture_check_catches_a_wrong_import(tmp_path):
    # the check itself must be able to fail: lazy imports are seen, and up or sideways edges are refused
    global TOP
    wrong = tmp_path / "core" / "bad.py"
    wrong.parent.mkdir()
    wrong.write_text("def later():\n    from api.views import v2\n    import workers.runners\n")
    saved, TOP = TOP, tmp_path
    try:
        assert imports_of(wrong) == {("api.views", ("v2",)), ("workers.runners", ())}
    finally:
        TOP = saved
    edges = {"core.bad": {"api.views"}, "workers.x": {"router.y", "core.z"}, "api.a": {"core.b"}}
    assert wrong_imports(edges, "core") == ["core.bad imports api.views"]
    assert wrong_imports(edges, "workers") == ["workers.x imports router.y"]
    assert wrong_imports(edges, "api") == []


def commits_in(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"]


def test_the_http_edge_never_commits():
    # views parse, authorize, call one service and serialize; services own every commit
    found = {str(path.relative_to(TOP)): commits_in(path) for path in (TOP / "api").rglob("*.py")}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_only_the_operations_service_enqueues_jobs():
    # commit-then-enqueue lives in one place, core.services.operations.commit_and_enqueue; besides it only the
    # builder (builds are not operations), the watcher (reconcile requests) and the watchdog (queue names in
    # messages) know the job table
    senders = sorted(name for name, targets in EDGES.items() if "core.jobs" in targets)
    assert senders == ["core.services.operations", "sshd.receive", "workers.celery_app", "workers.runners.watchdog",
                       "workers.watcher"]
