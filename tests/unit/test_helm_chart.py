"""The Helm chart (helm/pier), rendered by the pinned Helm (scripts/helm, which `make test` runs) with its
default values and with each part off-cluster, then checked the way a cluster would check it: `helm lint
--strict`, and every object through `kubernetes-validate --strict` against the schemas of the oldest and the newest
Kubernetes the chart supports (1.30, the floor of the scheduler it runs, and 1.37). No
cluster runs here: what `lookup` reads back on an upgrade (the kept secrets) is not exercised.
"""
import copy
import importlib.machinery
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from twisted.conch.ssh import keys

from tests.support import workers

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "pier"
HELM = ROOT / ".venv" / "bin" / "helm"
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")  # Chart.yaml's kubeVersion floor, and the newest schema kept
RELEASE, NAMESPACE = "pier", "platform"

DATABASE_URL = "postgresql+psycopg://pier:db-password@db.example.com:5432/pier"
REDIS_URL = "redis://:redis-password@redis.example.com:6379/0"
S3 = {"bucket": "pier-objects", "endpoint": "https://s3.example.com", "region": "eu-west-1",
      "accessKey": "AKIAEXAMPLE", "secretKey": "s3-secret", "pathStyle": True}
REGISTRY = "registry.example.com"
VARIANTS = {
    "defaults": {},
    "database.url": {"database": {"url": DATABASE_URL}},
    "redis.url": {"redis": {"url": REDIS_URL}},
    "storage.s3": {"storage": {"s3": S3}},
    "registry.url": {"registry": {"url": REGISTRY}},
    "all off-cluster": {"database": {"url": DATABASE_URL}, "redis": {"url": REDIS_URL}, "storage": {"s3": S3},
                        "registry": {"url": REGISTRY}},
    "every option": {"flower": {"enabled": True}, "router": {"hostPort": {"enabled": True},
                                                             "service": {"type": "ClusterIP"}},
                     "controller": {"service": {"type": "LoadBalancer"}},
                     "workers": {"builds": {"docker": {"mode": "socket", "socket": {"group": 998}},
                                            "nodeSelector": {"pier.io/builds": "true"}}},
                     "extraEnv": {"PIER_DEPLOY_TIMEOUT": "300"}, "imagePullSecrets": ["registry-login"]},
}

def scheduler_permissions():
    from workers.scheduler.kubernetes.permissions import PERMISSIONS
    return PERMISSIONS


def helm(*args, check=True):
    assert HELM.exists(), f"{HELM} is missing: scripts/helm installs it (make test runs it)"
    done = subprocess.run([str(HELM), *args], capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def values_file(tmp_path, values):
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def rendered_text(tmp_path, values):
    return helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, "-f", str(values_file(tmp_path, values))).stdout


def render(tmp_path, values=None):
    return [o for o in yaml.safe_load_all(rendered_text(tmp_path, values or {})) if o]


def find(objects, kind, name):
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found[0] if found else None


def pod_specs(objects):
    """(workload name, pod spec) of every Deployment, StatefulSet and DaemonSet."""
    return [(o["metadata"]["name"], o["spec"]["template"]["spec"]) for o in objects
            if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet")]


def containers(spec):
    return [*spec.get("initContainers", []), *spec["containers"]]


def secret_value(objects, key):
    import base64
    return base64.b64decode(find(objects, "Secret", "pier-secrets")["data"][key]).decode()


def settings(objects):
    return find(objects, "ConfigMap", "pier-settings")["data"]


def test_helm_is_the_pinned_binary():
    assert helm("version", "--short").stdout.startswith("v3.17.2+")


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_chart_passes_helm_lint_strict(variant, tmp_path):
    linted = helm("lint", "--strict", str(CHART), "-f", str(values_file(tmp_path, VARIANTS[variant])))
    assert "0 chart(s) failed" in linted.stdout


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_rendered_object_passes_kubernetes_validate_strict(variant, version, tmp_path):
    text = rendered_text(tmp_path, VARIANTS[variant])
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(text)
    count = len([o for o in yaml.safe_load_all(text) if o])
    checked = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "-k", version,
                              str(manifest)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    passed = re.findall(rf"passed for resource (\S+) against version {re.escape(version.rpartition('.')[0])}",
                        checked.stdout)
    assert len(passed) == count, checked.stdout


def test_kubernetes_validate_refuses_what_a_cluster_would(tmp_path):
    """The check above can fail: a field the API does not know is refused."""
    text = rendered_text(tmp_path, {}).replace("automountServiceAccountToken: false",
                                               "automountServiceAccountTokn: false", 1)
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(text)
    checked = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "-k", KUBERNETES_VERSIONS[-1],
                              "--quiet", str(manifest)], capture_output=True, text=True)
    assert checked.returncode != 0 and "automountServiceAccountTokn" in checked.stdout


def rule_set(rules):
    """{(api group, resource, verb)} of a role's rules; refuses what a table of verbs cannot say."""
    found = set()
    for rule in rules:
        assert not {"resourceNames", "nonResourceURLs"} & set(rule), rule
        assert "*" not in rule["apiGroups"] + rule["resources"] + rule["verbs"], rule
        found |= {(g, r, v) for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    return found


def permission_set(table):
    found = set()
    for entry in table:
        group, resource, verbs = (entry[k] for k in ("group", "resource", "verbs")) if isinstance(entry, dict) \
            else entry
        found |= {(group, resource, verb) for verb in ([verbs] if isinstance(verbs, str) else verbs)}
    return found


def test_the_scheduler_s_role_grants_exactly_the_verbs_the_kubernetes_scheduler_uses(tmp_path):
    objects = render(tmp_path)
    roles = [o for o in objects if o["kind"] in ("ClusterRole", "Role")]
    assert [r["metadata"]["name"] for r in roles] == [f"{NAMESPACE}-pier-scheduler"]
    granted, used = rule_set(roles[0]["rules"]), permission_set(scheduler_permissions())
    assert not used - granted, f"missing from helm/pier/templates/rbac.yaml: {sorted(used - granted)}"
    assert not granted - used, f"granted but never used by the scheduler: {sorted(granted - used)}"

    binding = find(objects, "ClusterRoleBinding", f"{NAMESPACE}-pier-scheduler")
    assert binding["roleRef"]["name"] == roles[0]["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "pier", "namespace": NAMESPACE}]


def test_only_the_pods_that_run_releases_carry_the_scheduler_s_token(tmp_path):
    with_token = sorted(name for name, spec in pod_specs(render(tmp_path))
                        if spec.get("automountServiceAccountToken") is not False)
    assert with_token == ["pier-deploys", "pier-periodic", "pier-runs", "pier-watcher"]
    for name, spec in pod_specs(render(tmp_path)):
        assert (spec.get("serviceAccountName") == "pier") == (name in with_token), name


def test_every_procfile_process_runs_in_the_chart(tmp_path):
    procfile = set(workers.procfile())  # the fleet's lines (workers/Procfile) instead of its own
    objects = render(tmp_path, {"flower": {"enabled": True}})
    run = {container["args"][0] for _, spec in pod_specs(objects) for container in spec["containers"]}
    assert procfile <= run, procfile - run
    assert {"registry", "redis", "database"} <= run


def test_beat_runs_once_in_the_periodic_worker_which_is_replaced_never_doubled(tmp_path):
    deployments = {o["metadata"]["name"]: o for o in render(tmp_path) if o["kind"] == "Deployment"}
    assert "pier-beat" not in deployments
    periodic = deployments["pier-periodic"]["spec"]
    assert periodic["replicas"] == 1 and periodic["strategy"] == {"type": "Recreate"}
    args = periodic["template"]["spec"]["containers"][0]["args"]
    assert args[0] == "periodic" and "--beat-thread" in workers.procfile()["periodic"]


def test_socket_mode_builds_work_in_a_node_folder_its_engine_sees_at_the_same_path(tmp_path):
    """A buildpack build bind-mounts folders under PIER_BUILD_CACHE_PATH into its container; the node's engine
    resolves those paths on the node, so in socket mode they must be a node folder mounted at the same path."""
    for values, folder in (({}, "/var/lib/pier-builds"), ({"buildFolder": "/srv/builds"}, "/srv/builds")):
        objects = render(tmp_path, {"workers": {"builds": {"docker": {"mode": "socket", "socket": values}}}})
        spec = find(objects, "Deployment", "pier-builds")["spec"]["template"]["spec"]
        [volume] = [v for v in spec["volumes"] if v["name"] == "build-folder"]
        assert volume["hostPath"] == {"path": folder, "type": "DirectoryOrCreate"}
        by_name = {c["name"]: c for c in containers(spec)}
        for name, variable in (("worker", "PIER_BUILD_CACHE_PATH"), ("pull-stack", "PIER_BUILD_FOLDER")):
            assert {"name": "build-folder", "mountPath": folder} in by_name[name]["volumeMounts"], name
            assert {"name": variable, "value": folder} in by_name[name]["env"], name
    dind = find(render(tmp_path), "Deployment", "pier-builds")["spec"]["template"]["spec"]
    assert "build-folder" not in [v["name"] for v in dind["volumes"]]  # dind shares the pod's /tmp instead
    refused = helm("template", RELEASE, str(CHART), "-f", str(values_file(tmp_path, {"workers": {"builds": {
        "docker": {"mode": "socket", "socket": {"buildFolder": "relative/builds"}}}}})), check=False)
    assert refused.returncode != 0 and "buildFolder" in refused.stderr


def effective(spec, container, field):
    return container.get("securityContext", {}).get(field, spec.get("securityContext", {}).get(field))


@pytest.mark.parametrize("mode, root", [("dind", {"pier-builds/dind", "pier-database/database"}),
                                        ("socket", {"pier-database/database"})])
def test_only_the_database_and_docker_in_docker_run_as_root(mode, root, tmp_path):
    objects = render(tmp_path, {"workers": {"builds": {"docker": {"mode": mode}}}})
    as_root, privileged = set(), set()
    for name, spec in pod_specs(objects):
        for container in containers(spec):
            if effective(spec, container, "runAsUser") == 0 or effective(spec, container, "runAsNonRoot") is False:
                as_root.add(f"{name}/{container['name']}")
            else:
                assert effective(spec, container, "runAsUser") == 1000 and effective(spec, container, "runAsNonRoot")
                assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}, (name, container["name"])
                assert container["securityContext"]["readOnlyRootFilesystem"] is True, (name, container["name"])
            if container.get("securityContext", {}).get("privileged"):
                privileged.add(f"{name}/{container['name']}")
    assert as_root == root
    assert privileged == root - {"pier-database/database"}
    database = find(objects, "StatefulSet", "pier-database")["spec"]["template"]["spec"]["containers"][0]
    assert database["securityContext"]["capabilities"] == {
        "drop": ["ALL"], "add": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"]}


def test_the_router_binds_80_and_443_unprivileged_and_both_it_and_the_controller_have_a_disruption_budget(tmp_path):
    objects = render(tmp_path)
    router = find(objects, "Deployment", "pier-router")["spec"]["template"]["spec"]
    assert {"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"} in router["securityContext"]["sysctls"]
    assert [p["containerPort"] for p in router["containers"][0]["ports"]] == [80, 443]
    assert find(objects, "Service", "pier-router")["spec"]["type"] == "LoadBalancer"
    for part in ("router", "controller"):
        budget = find(objects, "PodDisruptionBudget", f"pier-{part}")
        assert budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == part
    builder = find(objects, "Service", "pier-builder")["spec"]
    assert [(p["port"], p["targetPort"]) for p in builder["ports"]] == [(2222, "ssh")]

    host_ports = render(tmp_path, {"router": {"hostPort": {"enabled": True}}})
    router = find(host_ports, "Deployment", "pier-router")["spec"]["template"]["spec"]
    assert [p.get("hostPort") for p in router["containers"][0]["ports"]] == [80, 443]


@pytest.mark.parametrize("variant", ["defaults", "every option"])
def test_every_container_has_resource_requests_and_every_long_running_one_a_probe(variant, tmp_path):
    objects = render(tmp_path, {**VARIANTS[variant], "flower": {"enabled": True}})
    for name, spec in pod_specs(objects):
        for container in containers(spec):
            assert container["resources"]["requests"]["memory"], (name, container["name"])
        for container in spec["containers"]:
            if container["args"][0] != "watcher":  # no port and no broker ping to answer
                assert "livenessProbe" in container or "readinessProbe" in container, (name, container["name"])


def test_in_cluster_parts_are_rendered_and_reached_with_generated_secrets(tmp_path):
    objects = render(tmp_path)
    for key in ("secret-key", "builder-key", "database-password", "redis-password", "registry-http-secret"):
        assert len(secret_value(objects, key)) >= 32, key
    password = secret_value(objects, "database-password")
    assert secret_value(objects, "database-url") == f"postgresql+psycopg://pier:{password}@pier-database:5432/pier"
    assert secret_value(objects, "redis-url") == f"redis://:{secret_value(objects, 'redis-password')}@pier-redis:6379/0"
    assert settings(objects)["PIER_REGISTRY"] == "127.0.0.1:5555"
    assert settings(objects)["PIER_STORAGE"] == "filesystem"
    for kind, name in (("StatefulSet", "pier-database"), ("StatefulSet", "pier-redis"), ("Deployment", "pier-registry"),
                       ("DaemonSet", "pier-registry-proxy"), ("PersistentVolumeClaim", "pier-storage")):
        assert find(objects, kind, name), name
    secret = find(objects, "Secret", "pier-secrets")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    # every part reads the same settings and secrets
    for name, spec in pod_specs(objects):
        for container in spec["containers"]:
            if container["args"][0] not in ("registry", "redis", "nginx"):
                assert {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "pier-secrets",
                                                                               "key": "database-url"}}} \
                    in container["env"], name


def test_off_cluster_parts_are_left_out_and_their_addresses_used(tmp_path):
    objects = render(tmp_path, VARIANTS["all off-cluster"])
    assert secret_value(objects, "database-url") == DATABASE_URL
    assert secret_value(objects, "redis-url") == REDIS_URL
    assert (secret_value(objects, "s3-access-key"), secret_value(objects, "s3-secret-key")) == ("AKIAEXAMPLE", "s3-secret")
    assert {k: v for k, v in settings(objects).items() if k.startswith(("PIER_S3", "PIER_STORAGE", "PIER_REGISTRY"))} \
        == {"PIER_STORAGE": "s3", "PIER_S3_BUCKET": "pier-objects", "PIER_S3_ENDPOINT": "https://s3.example.com",
            "PIER_S3_REGION": "eu-west-1", "PIER_S3_PATH_STYLE": "true", "PIER_REGISTRY": REGISTRY}
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for left_out in ("pier-database", "pier-redis", "pier-registry", "pier-registry-proxy", "pier-storage"):
        assert not [k for k in kinds if k[1] == left_out], left_out
    assert not [o for o in objects if o["kind"] == "PersistentVolumeClaim"]
    for name, spec in pod_specs(objects):
        assert all(c["name"] != "registry-proxy" for c in containers(spec)), name
        assert all("persistentVolumeClaim" not in v for v in spec.get("volumes", [])), name


@pytest.mark.parametrize("values, complaint", [
    ({"registrationMode": "sometimes"}, "registrationMode"),
    ({"workers": {"builds": {"docker": {"mode": "vm"}}}}, "workers.builds.docker.mode"),
    ({"database": {"url": "mysql://db/pier"}}, "database.url"),
    ({"registry": {"url": "https://registry.example.com"}}, "registry.url"),
    ({"controler": {"replicas": 2}}, "controler"),
    ({"workers": {"periodic": {"replicas": 2}}}, "workers.periodic.replicas"),
    ({"beat": {"resources": {}}}, "beat"),
    ({"storage": {"s3": {**S3, "endpoint": "http://minio:9000"}}}, "pgBackRest"),
])
def test_values_the_chart_cannot_honour_are_refused(values, complaint, tmp_path):
    done = helm("template", RELEASE, str(CHART), "-f", str(values_file(tmp_path, values)), check=False)
    assert done.returncode != 0 and complaint in done.stderr, done.stderr


def test_an_http_object_store_is_fine_once_the_database_is_off_cluster(tmp_path):
    objects = render(tmp_path, {"storage": {"s3": {**S3, "endpoint": "http://minio:9000"}}, "database": {"url": DATABASE_URL}})
    assert settings(objects)["PIER_S3_ENDPOINT"] == "http://minio:9000"


def load_entrypoint():
    loader = importlib.machinery.SourceFileLoader("pier_entrypoint", str(ROOT / "image" / "entrypoint"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("pier_entrypoint", loader))
    loader.exec_module(module)
    return module


def test_the_generated_builder_host_key_becomes_one_the_builder_loads(tmp_path, monkeypatch):
    pem = secret_value(render(tmp_path), "builder-host-key")
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    entrypoint = load_entrypoint()
    (tmp_path / "secret").write_text(pem)
    monkeypatch.setattr(entrypoint, "HOST_KEY_PEM", str(tmp_path / "secret"))
    target = tmp_path / "builder" / "ssh_host_ed25519_key"
    monkeypatch.setenv("PIER_BUILDER_HOST_KEY", str(target))
    entrypoint.builder_host_key()
    key = keys.Key.fromString(target.read_bytes())
    assert key.sshType() == b"ssh-ed25519"
    public = serialization.load_pem_private_key(pem.encode(), None).public_key()
    assert key.public().blob() == keys.Key(public).blob()
    assert target.stat().st_mode & 0o777 == 0o600
    entrypoint.builder_host_key()  # a key already there is kept
    assert keys.Key.fromString(target.read_bytes()).public().blob() == key.public().blob()


def test_the_chart_s_processes_are_the_entry_point_s(tmp_path):
    entrypoint = load_entrypoint()
    procfiles = (str(ROOT / "Procfile"), str(ROOT / "workers" / "Procfile"))
    known = set(entrypoint.procfile(procfiles)) | set(entrypoint.SPECIAL) | {"nginx"}
    objects = render(tmp_path, {"flower": {"enabled": True}})
    for values in ({}, {"workers": {"builds": {"docker": {"mode": "socket"}}}}):
        objects = objects + render(tmp_path, values)
    for name, spec in pod_specs(objects):
        for container in containers(spec):
            assert container["args"][0] in known, (name, container["args"])


def test_values_yaml_documents_every_value():
    """values.yaml is the chart's manual: every key the schema allows is there, most with a comment."""
    import json
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def walk(schema_node, values_node, path):
        for key, child in schema_node.get("properties", {}).items():
            if key == "global":
                continue
            assert key in values_node, f"{path}{key} is in values.schema.json but not in values.yaml"
            if child.get("properties"):
                walk(child, values_node[key], f"{path}{key}.")
    walk(schema, copy.deepcopy(values), "")
