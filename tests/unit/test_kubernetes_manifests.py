"""Every object the Kubernetes backend sends, for a matrix of release specs, checked with kubernetes-validate
(strict: an unknown field fails) against the oldest Kubernetes Pier supports and the newest it is checked
with; and what the objects say, field by field."""
import base64
import json

from tests.support import kube_schemas as kubernetes_validate
import pytest

from core.settings import Settings
from tests.support.fake_kube import SUPPORTED_VERSIONS
from workers.scheduler.kubernetes import manifests
from workers.scheduler.spec import ReleaseSpec

SETTINGS = Settings(secret_key="k" * 40, builder_key="b" * 40, drain_seconds=2.5, stop_grace_seconds=10,
                    deploy_timeout=120.0, job_time_limit=1800)
PROBES = {
    "web": {"readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP", "host": "localhost",
                                           "httpHeaders": [{"name": "X-Check", "value": "1"}]},
                               "initialDelaySeconds": 2, "timeoutSeconds": 3, "periodSeconds": 5,
                               "successThreshold": 2, "failureThreshold": 4},
            "livenessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 10, "successThreshold": 1}},
    "worker": {"livenessProbe": {"exec": {"command": ["cat", "/tmp/alive"]}, "failureThreshold": 2},
               "readinessProbe": {"exec": {"command": ["true"]}}},
}
SPECS = {
    "plain": dict(),
    "memory limit": dict(memory={"web": "512M"}),
    "memory request and limit": dict(memory={"web": "256M/512M", "worker": "64MB/128MB"}),
    "memory in bytes and gigabytes": dict(memory={"web": "1048576", "worker": "1G", "cmd": "2GB/4GB"}),
    "memory in kilobytes": dict(memory={"web": "512K/1024KB"}),
    "cpu limit": dict(cpu={"web": "250m"}),
    "cpu request and limit": dict(cpu={"web": "100m/500m", "worker": "1/2"}),
    "every probe kind": dict(healthcheck=PROBES),
    "tags": dict(tags={"region": "eu-west", "disk": "ssd"}),
    "private registry": dict(image="registry.example.com:5000/acme/web:v3",
                             registry={"username": "ada", "password": "s3cret"}),
    "docker hub credentials": dict(image="acme/web:v3", registry={"username": "ada", "password": "s3cret"}),
    "everything": dict(memory={"web": "256M/512M"}, cpu={"web": "100m/500m"}, healthcheck=PROBES,
                       tags={"region": "eu"}, registry={"username": "ada", "password": "pw"}),
}
STRUCTURES = ({"web": 3, "worker": 2, "cmd": 1}, {"web": 0, "worker": 0}, {"cmd": 1})


def spec_for(**changes):
    values = dict(app="shop", app_uuid="0b7f1c9e-5d5f-4c53-9b0e-2f8a1d3c4e5f", version=7,
                  image="127.0.0.1:5000/shop:git-1a2b3c4d", env={"DEIS_APP": "shop", "GREETING": "héllo"},
                  procfile={"web": "python3 server.py", "worker": "python3 worker.py --queue 'a b'"})
    values.update(changes)
    return ReleaseSpec(**values)


def everything_sent(spec, structure, settings=SETTINGS):
    sent = manifests.objects(spec, structure, 8080, settings)
    sent += [manifests.autoscaler(spec, t, {"min": 1, "max": 5, "cpu_percent": 70}) for t in structure]
    sent.append(manifests.run_pod(spec, "python3 manage.py migrate", 8080, settings, "shop-run-1a2b3c"))
    return sent


def validate(obj, version):
    kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
@pytest.mark.parametrize("structure", STRUCTURES, ids=["three types", "scaled to zero", "cmd only"])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_object_sent_is_valid_kubernetes(name, structure, version):
    sent = everything_sent(spec_for(**SPECS[name]), structure)
    assert {o["kind"] for o in sent} >= {"Namespace", "Secret", "Deployment", "HorizontalPodAutoscaler", "Pod"}
    for obj in sent:
        validate(obj, version)


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_without_drain_or_with_short_limits_the_objects_stay_valid(version):
    settings = Settings(secret_key="k" * 40, builder_key="b" * 40, drain_seconds=0.0, stop_grace_seconds=0,
                        deploy_timeout=0.5, job_time_limit=1)
    for obj in everything_sent(spec_for(), {"web": 1}, settings):
        validate(obj, version)
    [deployment] = [o for o in everything_sent(spec_for(), {"web": 1}, settings) if o["kind"] == "Deployment"]
    assert "lifecycle" not in deployment["spec"]["template"]["spec"]["containers"][0]
    assert deployment["spec"]["progressDeadlineSeconds"] == 1


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_the_check_refuses_an_unknown_field_and_a_removed_api_version(version):
    deployment = manifests.deployment(spec_for(), "web", 1, 8080, SETTINGS)
    deployment["spec"]["template"]["spec"]["containers"][0]["memoryLimit"] = "512M"
    with pytest.raises(kubernetes_validate.ValidationError, match="memoryLimit"):
        validate(deployment, version)
    removed = dict(manifests.deployment(spec_for(), "web", 1, 8080, SETTINGS), apiVersion="extensions/v1beta1")
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        validate(removed, version)
    autoscaler = dict(manifests.autoscaler(spec_for(), "web", {"min": 1, "max": 2, "cpu_percent": 50}),
                      apiVersion="autoscaling/v2beta2")  # removed in Kubernetes 1.26
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        validate(autoscaler, version)


def test_a_deployment_rolls_with_no_pod_down_and_drains():
    deployment = manifests.deployment(spec_for(), "web", 3, 8080, SETTINGS)
    spec = deployment["spec"]
    assert deployment["metadata"]["name"] == "shop-web" and deployment["metadata"]["namespace"] == "shop"
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}
    assert spec["replicas"] == 3 and spec["selector"]["matchLabels"] == {"pier.io/app": "shop", "pier.io/type": "web"}
    pod = spec["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 3 + 10  # the drain (rounded up) and then the stop grace
    [container] = pod["containers"]
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 3}}}
    assert container["args"] == ["/bin/sh", "-c", "python3 server.py"] and "command" not in container
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert spec["template"]["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "pier", "pier.io/app": "shop", "pier.io/app-uuid": spec_for().app_uuid,
        "pier.io/release": "v7", "pier.io/type": "web"}
    assert pod["automountServiceAccountToken"] is False


def test_config_reaches_pods_only_through_the_release_secret():
    spec = spec_for(env={"GREETING": "héllo", "DATABASE_URL": "postgres://u:p@db/x"})
    secret = manifests.config_secret(spec, 8080)
    assert secret["metadata"]["name"] == "env-v7" and secret["type"] == "Opaque"
    values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert values == {"GREETING": "héllo", "DATABASE_URL": "postgres://u:p@db/x", "PORT": "8080"}
    container = manifests.deployment(spec, "web", 1, 8080, SETTINGS)["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": "env-v7"}}] and "env" not in container
    assert "postgres://" not in json.dumps(manifests.deployment(spec, "web", 1, 8080, SETTINGS))


@pytest.mark.parametrize("memory, cpu, expected", [
    ("512M", "250m", {"limits": {"memory": "512Mi", "cpu": "250m"}}),
    ("256M/512M", "100m/500m", {"requests": {"memory": "256Mi", "cpu": "100m"},
                                "limits": {"memory": "512Mi", "cpu": "500m"}}),
    ("1G", None, {"limits": {"memory": "1Gi"}}),
    ("64MB/128MB", "1/2", {"requests": {"memory": "64Mi", "cpu": "1"}, "limits": {"memory": "128Mi", "cpu": "2"}}),
    ("1048576", None, {"limits": {"memory": "1048576"}}),
    ("512k", None, {"limits": {"memory": "512Ki"}}),
])
def test_deis_limits_become_requests_and_limits(memory, cpu, expected):
    spec = spec_for(memory={"web": memory}, cpu={"web": cpu} if cpu else {})
    assert manifests.resources(spec, "web") == expected


def test_probes_map_one_to_one_and_routable_types_get_a_port_check():
    web = manifests.container(spec_for(healthcheck=PROBES), "web", 8080, 0)
    assert web["readinessProbe"] == PROBES["web"]["readinessProbe"]
    assert web["livenessProbe"] == PROBES["web"]["livenessProbe"]
    worker = manifests.container(spec_for(healthcheck=PROBES), "worker", 8080, 0)
    assert worker["livenessProbe"] == {"exec": {"command": ["cat", "/tmp/alive"]}, "failureThreshold": 2}
    plain_web = manifests.container(spec_for(), "web", 8080, 0)
    assert plain_web["readinessProbe"]["tcpSocket"] == {"port": "http"} and "livenessProbe" not in plain_web
    assert "readinessProbe" not in manifests.container(spec_for(), "worker", 8080, 0)


def test_tags_registry_credentials_and_services():
    spec = spec_for(tags={"region": "eu"}, image="registry.example.com:5000/acme/web:v3",
                    registry={"username": "ada", "password": "s3cret"})
    pod = manifests.deployment(spec, "web", 1, 8080, SETTINGS)["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"region": "eu"} and pod["imagePullSecrets"] == [{"name": "registry-v7"}]
    secret = manifests.registry_secret(spec)
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert config["auths"]["registry.example.com:5000"]["auth"] == base64.b64encode(b"ada:s3cret").decode()
    assert manifests.registry_host("acme/web:v3") == "https://index.docker.io/v1/"
    assert manifests.registry_secret(spec_for()) is None
    kinds = [o["kind"] for o in manifests.objects(spec_for(), {"web": 1, "worker": 1}, 8080, SETTINGS)]
    assert kinds == ["Namespace", "Secret", "Deployment", "Service", "Deployment"]  # a Service for web only
    service = manifests.service(spec_for(), "web")
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_autoscaler_and_one_off():
    hpa = manifests.autoscaler(spec_for(), "web", {"min": 2, "max": 6, "cpu_percent": 75})
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["scaleTargetRef"]["name"] == "shop-web"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 75}
    pod = manifests.run_pod(spec_for(memory={"web": "256M"}, cpu={"web": "1"}), "echo hi", 8080, SETTINGS, "x")
    assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["activeDeadlineSeconds"] == 1800
    assert pod["spec"]["containers"][0]["resources"] == {"limits": {"memory": "256Mi"}}
    assert pod["metadata"]["labels"]["pier.io/type"] == "run"


def test_the_template_hash_follows_the_template_only():
    one = manifests.deployment(spec_for(), "web", 1, 8080, SETTINGS)
    scaled = manifests.deployment(spec_for(), "web", 5, 8080, SETTINGS)
    changed = manifests.deployment(spec_for(version=8), "web", 1, 8080, SETTINGS)
    hash_of = lambda d: d["metadata"]["annotations"][manifests.TEMPLATE_HASH]  # noqa: E731
    assert hash_of(one) == hash_of(scaled) != hash_of(changed)
