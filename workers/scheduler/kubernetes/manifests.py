"""Kubernetes objects for a release, as pure functions of the release spec: no API calls here.

Per app a Namespace named after the app; per release a Secret with its config (`envFrom`, never plain env
in a Deployment) and, with registry credentials, a pull Secret; per process type a Deployment named
`<app>-<type>`; for each routable type a Service named after the type; per autoscaled type an
`autoscaling/v2` HorizontalPodAutoscaler. Every object carries Pier's labels, so Pier only touches what it
made.
"""
import base64
import dataclasses
import hashlib
import json
import math
import re

from core.units import request_and_limit
from workers.scheduler.spec import ROUTABLE_TYPES

MANAGED_BY = "app.kubernetes.io/managed-by"
OWNER = "pier"
APP, APP_UUID, RELEASE, TYPE = "pier.io/app", "pier.io/app-uuid", "pier.io/release", "pier.io/type"
TEMPLATE_HASH = "pier.io/template-hash"  # our own template, before the server defaults anything
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets, so kubectl agrees
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
RUN_TYPE = "run"
DEFAULT_PORT = 5000
SERVICE_PORT = 80
PORT_NAME = "http"
REVISIONS_KEPT = 5
PROBE_FIELDS = ("exec", "httpGet", "tcpSocket", "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                "successThreshold", "failureThreshold")
MEMORY_UNITS = {"": "", "B": "", "K": "Ki", "KB": "Ki", "M": "Mi", "MB": "Mi", "G": "Gi", "GB": "Gi"}


def labels(spec, process_type=None):
    found = {MANAGED_BY: OWNER, APP: spec.app, APP_UUID: spec.app_uuid}
    if process_type is not None:
        found.update({RELEASE: spec.release, TYPE: process_type})
    return found


def deployment_name(app, process_type):
    return f"{app}-{process_type}"


def config_secret_name(release):
    return f"env-{release}"


def registry_secret_name(release):
    return f"registry-{release}"


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def namespace(spec):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": spec.app, "labels": labels(spec)}}


def config_secret(spec, port):
    """The release's environment: config values, DEIS_* and PORT (config's, else the image's port)."""
    env = dict(spec.env, PORT=str(port))
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": config_secret_name(spec.release), "namespace": spec.app,
                         "labels": dict(labels(spec), **{RELEASE: spec.release})},
            "data": {key: _b64(value) for key, value in sorted(env.items())}}


def registry_host(image):
    """The registry part of an image reference; Docker Hub's auth address when there is none."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "https://index.docker.io/v1/"


def registry_secret(spec):
    """A `kubernetes.io/dockerconfigjson` Secret with the app's registry credentials, or None without them."""
    if not spec.registry:
        return None
    username, password = spec.registry.get("username", ""), spec.registry.get("password", "")
    auth = {"username": username, "password": password, "auth": _b64(f"{username}:{password}")}
    config = json.dumps({"auths": {registry_host(spec.image): auth}}, sort_keys=True)
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": registry_secret_name(spec.release), "namespace": spec.app,
                         "labels": dict(labels(spec), **{RELEASE: spec.release})},
            "data": {".dockerconfigjson": _b64(config)}}


def memory_quantity(text):
    """Deis's '512M' (K, M, G are powers of 1024) -> Kubernetes' '512Mi'; '1024' (bytes) stays."""
    number, unit = re.fullmatch(r"([0-9]+)([A-Za-z]*)", text).groups()
    return number + MEMORY_UNITS[unit.upper()]


def cpu_quantity(text):
    """'500m' and '2' are Kubernetes quantities already; '0.5' too."""
    return text


def resources(spec, process_type, default_memory=None):
    """Deis's 'request/limit' form: '256M/512M' sets both; a single value sets the limit (the request then
    defaults to it, as in Deis). Without a memory limit of its own, the platform's default (as on Docker)."""
    found = {}
    memory = spec.memory.get(process_type) or default_memory
    for name, value, convert in (("memory", memory, memory_quantity),
                                 ("cpu", spec.cpu.get(process_type), cpu_quantity)):
        request, limit = request_and_limit(value)
        if request:
            found.setdefault("requests", {})[name] = convert(request)
        if limit:
            found.setdefault("limits", {})[name] = convert(limit)
    return found


def probe(given):
    """A healthcheck probe (API.md 2.4 already has Kubernetes' shape), with only the fields Kubernetes knows."""
    return {key: given[key] for key in PROBE_FIELDS if key in given}


def readiness(spec, process_type):
    """The type's readinessProbe; a routable type without one is ready once its port accepts connections,
    as on Docker (a pod without any probe would be ready before the app listens)."""
    given = spec.probe(process_type, "readinessProbe")
    if given:
        return probe(given)
    if process_type in ROUTABLE_TYPES:
        return {"tcpSocket": {"port": PORT_NAME}, "periodSeconds": 2, "failureThreshold": 1}
    return None


def container(spec, process_type, port, drain_seconds, default_memory=None):
    found = {"name": process_type, "image": spec.image,
             "envFrom": [{"secretRef": {"name": config_secret_name(spec.release)}}]}
    command = spec.command(process_type)
    if command:
        # the Procfile command replaces the image's CMD (not its ENTRYPOINT), as `docker run image cmd` does
        found["args"] = ["/bin/sh", "-c", command]
    if process_type in ROUTABLE_TYPES:
        found["ports"] = [{"name": PORT_NAME, "containerPort": port, "protocol": "TCP"}]
    if resources(spec, process_type, default_memory):
        found["resources"] = resources(spec, process_type, default_memory)
    if readiness(spec, process_type):
        found["readinessProbe"] = readiness(spec, process_type)
    if spec.probe(process_type, "livenessProbe"):
        found["livenessProbe"] = probe(spec.probe(process_type, "livenessProbe"))
    if drain_seconds > 0:
        # the pod leaves the Service's endpoints first, then keeps serving this long: requests in flight and
        # those routed before kube-proxy caught up finish (the `sleep` action needs no `sleep` in the image)
        found["lifecycle"] = {"preStop": {"sleep": {"seconds": math.ceil(drain_seconds)}}}
    return found


def pod_spec(spec, containers, settings, restart_policy="Always"):
    found = {"containers": containers, "restartPolicy": restart_policy,
             # apps get no token for the cluster's API, and no Service variables beside their config
             "automountServiceAccountToken": False, "enableServiceLinks": False,
             "terminationGracePeriodSeconds": math.ceil(settings.drain_seconds) + settings.stop_grace_seconds}
    if spec.registry:
        found["imagePullSecrets"] = [{"name": registry_secret_name(spec.release)}]
    if spec.tags:
        found["nodeSelector"] = dict(sorted(spec.tags.items()))
    return found


def template(spec, process_type, port, settings):
    return {"metadata": {"labels": labels(spec, process_type)},
            "spec": pod_spec(spec, [container(spec, process_type, port, settings.drain_seconds,
                                              settings.container_memory)], settings)}


def template_hash(pod_template):
    """A digest of the template as Pier built it: the server adds defaults, so live and desired templates are
    compared through this annotation rather than field by field."""
    text = json.dumps(pod_template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def deployment(spec, process_type, replicas, port, settings):
    pod_template = template(spec, process_type, port, settings)
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": deployment_name(spec.app, process_type), "namespace": spec.app,
                     "labels": labels(spec, process_type),
                     "annotations": {TEMPLATE_HASH: template_hash(pod_template)}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {APP: spec.app, TYPE: process_type}},  # immutable: no release in it
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
            "revisionHistoryLimit": REVISIONS_KEPT,
            "progressDeadlineSeconds": max(1, math.ceil(settings.deploy_timeout)),
            "template": pod_template,
        },
    }


def service(spec, process_type):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": process_type, "namespace": spec.app, "labels": labels(spec)},
            "spec": {"type": "ClusterIP", "selector": {APP: spec.app, TYPE: process_type},
                     "ports": [{"name": PORT_NAME, "port": SERVICE_PORT, "targetPort": PORT_NAME,
                                "protocol": "TCP"}]}}


def autoscaler(spec, process_type, rule):
    """rule: {"min", "max", "cpu_percent"} as AppSettings.autoscale keeps it. Utilization is measured
    against the containers' CPU request, so the type needs one (`pier limits:set --cpu`)."""
    name = deployment_name(spec.app, process_type)
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": spec.app, "labels": dict(labels(spec), **{TYPE: process_type})},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                     "minReplicas": int(rule["min"]), "maxReplicas": int(rule["max"]),
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization",
                                                   "averageUtilization": int(rule["cpu_percent"])}}}]}}


def run_pod(spec, command, port, settings, name):
    """A one-off: never restarted, killed by Kubernetes after PIER_JOB_TIME_LIMIT (activeDeadlineSeconds)."""
    memory_type = RUN_TYPE if RUN_TYPE in spec.memory else "web"
    one_off = {"name": RUN_TYPE, "image": spec.image, "args": ["/bin/sh", "-c", command],
               "envFrom": [{"secretRef": {"name": config_secret_name(spec.release)}}]}
    limits = resources(dataclasses.replace(spec, cpu={}), memory_type, settings.container_memory)  # as on Docker
    if limits:
        one_off["resources"] = limits
    found = pod_spec(spec, [one_off], settings, restart_policy="Never")
    found["activeDeadlineSeconds"] = settings.job_time_limit
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": spec.app, "labels": labels(spec, RUN_TYPE)},
            "spec": found}


def objects(spec, structure, port, settings):
    """Everything a deploy of `spec` at `structure` sends, in the order it is sent (for validation tests)."""
    sent = [namespace(spec), config_secret(spec, port)]
    if registry_secret(spec):
        sent.append(registry_secret(spec))
    for process_type, replicas in sorted(structure.items()):
        sent.append(deployment(spec, process_type, replicas, port, settings))
        if process_type in ROUTABLE_TYPES:
            sent.append(service(spec, process_type))
    return sent
