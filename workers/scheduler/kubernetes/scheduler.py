"""The Kubernetes scheduler: each app in a Namespace of its own, each process type a Deployment.

A deploy applies the release's objects, waits for the rollout (observed generation, updated and available
replicas) and, when the rollout fails or stalls past PIER_DEPLOY_TIMEOUT, puts the previous template back so
the Deployment controller scales the previous ReplicaSet up again (its pods never went down:
`maxUnavailable: 0`). The router is handed each routable type's Service (its ClusterIP), which does not
change when pods do, so pod changes never reload nginx.
"""
import logging
import secrets
import time

from workers.scheduler.base import Scheduler, SchedulerError
from workers.scheduler.kubernetes import manifests, rollout, states
from workers.scheduler.kubernetes.apply import apply, delete, read
from workers.scheduler.kubernetes.cluster import Cluster, NotFound, connect
from workers.scheduler.kubernetes.drift import differences
from workers.scheduler.kubernetes.images import RegistryImages
from workers.scheduler.kubernetes.logs import follow_logs
from workers.scheduler.kubernetes.restarts import restart_one, restart_types
from workers.scheduler.kubernetes.watch import watch_pods
from workers.scheduler.spec import ROUTABLE_TYPES

log = logging.getLogger("pier.scheduler.kubernetes")
ROUTER_WAIT_SECONDS = 10
PROCESS_PODS = f"{manifests.MANAGED_BY}={manifests.OWNER},{manifests.TYPE},{manifests.TYPE}!={manifests.RUN_TYPE}"


class KubernetesScheduler(Scheduler):
    runtime_autoscales = True  # a HorizontalPodAutoscaler per autoscaled type (`autoscale`)

    def __init__(self, settings, routing=None, api_client=None, image_ports=None):
        super().__init__(settings, routing)
        self.cluster = Cluster(api_client or connect(settings))
        self.image_ports = image_ports or RegistryImages(settings).port
        self.service_ips = {}  # (app, type) -> ClusterIP, refreshed by observe()

    # -- what to send ---------------------------------------------------------------------------------------
    def port_for(self, spec):
        """PORT from config, else the image's first exposed port (read from its registry), else 5000."""
        if "PORT" in spec.env:
            return int(spec.env["PORT"])
        return self.image_ports(spec.image, spec.registry) or manifests.DEFAULT_PORT

    def _check_tags(self, spec):
        """Some node must carry every tag, as the nodeSelector will require."""
        if not spec.tags:
            return
        nodes = self.cluster.call(self.cluster.core.list_node, what="list the cluster's nodes").get("items", [])
        carried = [n["metadata"].get("labels") or {} for n in nodes]
        if any(all(labels.get(k) == v for k, v in spec.tags.items()) for labels in carried):
            return
        missing = {k: v for k, v in spec.tags.items() if not any(labels.get(k) == v for labels in carried)}
        raise SchedulerError("No nodes matched the provided labels: " +
                             ", ".join(f"{k}={v}" for k, v in sorted((missing or spec.tags).items())))

    def _namespace(self, spec):
        """The app's namespace, made if missing; one Pier did not make, or an earlier same-named app's that is
        still being removed, is never used."""
        for _ in range(2):
            live = read(self.cluster, "Namespace", spec.app)
            if live is None:
                return apply(self.cluster, manifests.namespace(spec))
            found = live["metadata"].get("labels") or {}
            if found.get(manifests.MANAGED_BY) != manifests.OWNER:
                raise SchedulerError(f"The namespace {spec.app} exists and was not made by Pier, so Pier will "
                                     f"not run the app there; remove that namespace or use another app name.")
            terminating = (live.get("status") or {}).get("phase") == "Terminating"
            if found.get(manifests.APP_UUID) == spec.app_uuid and not terminating:
                return live
            if not terminating:
                raise SchedulerError(f"The namespace {spec.app} belongs to an earlier app of that name; destroy "
                                     "it first.")
            rollout.wait_gone(self.cluster, lambda: self.cluster.call(self.cluster.core.read_namespace, spec.app,
                                                                      what=f"read namespace {spec.app}"),
                              self.settings.deploy_timeout, f"The namespace {spec.app} of an earlier app")
        raise SchedulerError(f"The namespace {spec.app} could not be prepared; try again.")

    def _prepare(self, spec):
        """Namespace and the release's Secrets, which deploys and one-off runs both need. Returns the port."""
        port = self.port_for(spec)
        self._namespace(spec)
        apply(self.cluster, manifests.config_secret(spec, port))
        if manifests.registry_secret(spec):
            apply(self.cluster, manifests.registry_secret(spec))
        return port

    def _autoscaled(self, namespace):
        found = self.cluster.call(self.cluster.autoscaling.list_namespaced_horizontal_pod_autoscaler, namespace,
                                  what=f"list the autoscalers of {namespace}")
        return {h["metadata"]["labels"].get(manifests.TYPE) for h in found.get("items", [])}

    # -- deploy and scale -------------------------------------------------------------------------------------
    def deploy(self, spec, structure, retire=True):
        """The rolling update retires the old pods by itself (maxUnavailable 0): there are no leftovers."""
        self.spent = {}
        began = time.monotonic()
        self._check_tags(spec)
        port = self._prepare(spec)
        autoscaled = self._autoscaled(spec.app)
        before = rollout.deployments(self.cluster, spec.app)
        changed = {}  # type -> its Deployment before this deploy changed its template (None: it had none)
        try:
            for process_type, replicas in sorted(structure.items()):
                wanted = manifests.deployment(spec, process_type, replicas, port, self.settings)
                old = before.get(process_type)
                if old is None or old["metadata"]["annotations"].get(manifests.TEMPLATE_HASH) != \
                        wanted["metadata"]["annotations"][manifests.TEMPLATE_HASH]:
                    changed[process_type] = old
                apply(self.cluster, wanted, adjust=lambda desired, live, t=process_type: _carried(
                    desired, live, keep_replicas=t in autoscaled))
                if process_type in ROUTABLE_TYPES:
                    apply(self.cluster, manifests.service(spec, process_type), adjust=_kept_cluster_ip)
            self.timed("apply", began)
            began = time.monotonic()
            rollout.wait(self.cluster, spec.app, sorted(structure), spec.release, self.settings.deploy_timeout)
            self.timed("rollout", began)
        except SchedulerError:
            try:
                self._roll_back(spec, changed)
            except SchedulerError as exc:  # the cause the user needs is the deploy's own, raised below
                log.warning("could not roll %s back: %s", spec.app, exc)
            raise
        for process_type in sorted(set(before) - set(structure)):  # types this release no longer has
            delete(self.cluster, "Deployment", manifests.deployment_name(spec.app, process_type), spec.app)
            if process_type in ROUTABLE_TYPES:
                delete(self.cluster, "Service", process_type, spec.app)
        self._remove_failed_pods(spec.app)
        self._remove_old_secrets(spec, keep={spec.release, *(_release_of(d) for d in before.values())})
        self._publish(spec, structure)
        return []

    def retire(self, leftovers):
        """Nothing to do: Kubernetes drained and stopped the old pods during the rollout."""

    def _roll_back(self, spec, changed):
        """Puts each changed Deployment back as it was, so the Deployment controller scales its previous
        ReplicaSet up again (`kubectl rollout undo`); a type this release added is removed. Waits until only the
        previous release's pods are left."""
        restored = []
        for process_type, old in sorted(changed.items()):
            name = manifests.deployment_name(spec.app, process_type)
            if old is None:
                delete(self.cluster, "Deployment", name, spec.app)
                if process_type in ROUTABLE_TYPES:
                    delete(self.cluster, "Service", process_type, spec.app)
                continue
            metadata = {key: old["metadata"][key] for key in ("name", "namespace", "labels", "annotations")
                        if key in old["metadata"]}
            apply(self.cluster, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
                                 "spec": old["spec"]})
            restored.append(process_type)
        if restored:
            previous = _release_of(changed[restored[0]])
            try:
                rollout.wait(self.cluster, spec.app, restored, previous, self.settings.deploy_timeout)
            except SchedulerError as exc:
                log.warning("rolling %s back to %s did not complete: %s", spec.app, previous, exc)
        self._remove_failed_pods(spec.app)
        rollout.wait_no_pods(self.cluster, spec.app, spec.release, self.settings.deploy_timeout)

    def scale(self, spec, structure, retire=True):
        """Patches the replicas of the release's Deployments; a type without one (or running another release)
        is deployed instead."""
        live = rollout.deployments(self.cluster, spec.app)
        if any(t not in live or _release_of(live[t]) != spec.release for t, n in structure.items() if n > 0):
            return self.deploy(spec, structure)
        autoscaled = self._autoscaled(spec.app)
        for process_type, replicas in sorted(structure.items()):
            if process_type in live and process_type not in autoscaled:
                name = manifests.deployment_name(spec.app, process_type)
                self.cluster.call(self.cluster.apps.patch_namespaced_deployment, name, spec.app,
                                  {"spec": {"replicas": replicas}}, what=f"scale Deployment {name}")
        rollout.wait(self.cluster, spec.app, sorted(t for t in structure if t in live), spec.release,
                     self.settings.deploy_timeout)
        self._publish(spec, structure)
        return []

    def _publish(self, spec, structure):
        pods = self.pods(spec.app)
        version = self.routing.publish(spec.app, self.endpoints(spec, pods))
        if version:
            self.routing.wait_routed(version, ROUTER_WAIT_SECONDS)

    def _remove_failed_pods(self, namespace):
        """Evicted or otherwise failed pods stay listed until someone deletes them; their replacements run."""
        for pod in rollout.pod_items(self.cluster, namespace):
            if states.is_process(pod) and (pod.get("status") or {}).get("phase") == "Failed":
                delete(self.cluster, "Pod", pod["metadata"]["name"], namespace, grace_seconds=0)

    def _remove_old_secrets(self, spec, keep):
        found = self.cluster.call(self.cluster.core.list_namespaced_secret, spec.app,
                                  label_selector=f"{manifests.APP}={spec.app},{manifests.RELEASE}",
                                  what=f"list the Secrets of {spec.app}")
        for secret in found.get("items", []):
            if secret["metadata"]["labels"].get(manifests.RELEASE) not in keep:
                delete(self.cluster, "Secret", secret["metadata"]["name"], spec.app)

    # -- restart, run, destroy --------------------------------------------------------------------------------
    def restart(self, spec, structure, process_type=None, name=None):
        if name is not None:
            return restart_one(self, spec, name)
        return restart_types(self, spec, structure, process_type)

    def run(self, spec, command):
        port = self._prepare(spec)
        name = f"{spec.app}-run-{secrets.token_hex(3)}"
        self.cluster.call(self.cluster.core.create_namespaced_pod, spec.app,
                          manifests.run_pod(spec, command, port, self.settings, name), what=f"create pod {name}")
        try:
            return rollout.one_off_result(self.cluster, spec.app, name, self.settings.job_time_limit)
        finally:
            delete(self.cluster, "Pod", name, spec.app, grace_seconds=0)

    def destroy(self, app_id, app_uuid):
        live = read(self.cluster, "Namespace", app_id)
        if live is None:
            return
        found = live["metadata"].get("labels") or {}
        if found.get(manifests.MANAGED_BY) != manifests.OWNER or found.get(manifests.APP_UUID) != app_uuid:
            return  # not this app's: never touched
        delete(self.cluster, "Namespace", app_id)
        rollout.wait_gone(self.cluster, lambda: self.cluster.call(self.cluster.core.read_namespace, app_id,
                                                                  what=f"read namespace {app_id}"),
                          max(self.settings.deploy_timeout, 60), f"The namespace {app_id}")
        self.service_ips = {k: v for k, v in self.service_ips.items() if k[0] != app_id}

    # -- observing --------------------------------------------------------------------------------------------
    def pods(self, app_id):
        try:
            return states.pods_of(rollout.pod_items(self.cluster, app_id))
        except NotFound:
            return []

    def observe(self):
        found = self.cluster.call(self.cluster.core.list_pod_for_all_namespaces, label_selector=PROCESS_PODS,
                                  what="list Pier's pods")
        grouped = {}
        for pod in found.get("items", []):
            grouped.setdefault(pod["metadata"]["labels"][manifests.APP], []).append(pod)
        services = self.cluster.call(self.cluster.core.list_service_for_all_namespaces,
                                     label_selector=f"{manifests.MANAGED_BY}={manifests.OWNER}",
                                     what="list Pier's Services")
        self.service_ips = {(s["metadata"]["namespace"], s["metadata"]["name"]): s["spec"].get("clusterIP")
                            for s in services.get("items", [])}
        return {app: states.pods_of(items) for app, items in grouped.items() if states.pods_of(items)}

    def drift(self, spec, structure, pods):
        try:
            live = rollout.deployments(self.cluster, spec.app)
            autoscaled = self._autoscaled(spec.app)
        except NotFound:
            live, autoscaled = {}, set()
        return differences(spec, structure, pods, live, autoscaled)

    def endpoints(self, spec, pods):
        """Each routable type's Service address ({type: ["<ClusterIP>:80"]}) while one of its pods is ready:
        kube-proxy spreads the traffic over the ready pods, so pods coming and going change nothing here."""
        found = {}
        for process_type in sorted({p.type for p in pods if p.ready and p.type in ROUTABLE_TYPES}):
            address = self._service_ip(spec.app, process_type)
            if address and address != "None":
                found[process_type] = [f"{address}:{manifests.SERVICE_PORT}"]
        return found

    def _service_ip(self, app_id, process_type):
        if (app_id, process_type) not in self.service_ips:
            live = read(self.cluster, "Service", process_type, app_id)
            self.service_ips[(app_id, process_type)] = (live or {}).get("spec", {}).get("clusterIP")
        return self.service_ips[(app_id, process_type)]

    def failing_liveness(self, spec):
        return []  # the kubelet runs liveness probes and restarts containers itself

    def watch(self, on_change, stop, interval=1.0):
        watch_pods(self.cluster, PROCESS_PODS, on_change, stop)

    def collect_logs(self, sink, stop, resume=None):
        follow_logs(self.cluster, PROCESS_PODS, sink, stop, resume)

    # -- autoscaling ------------------------------------------------------------------------------------------
    def cpu_usage(self, spec, process_types):
        return None  # HorizontalPodAutoscalers (`autoscale`) size the Deployments in the cluster

    def autoscale(self, spec, rules):
        """rules: {process type: {"min", "max", "cpu_percent"}}; types without a rule lose their autoscaler."""
        self._namespace(spec)
        for process_type, rule in sorted(rules.items()):
            apply(self.cluster, manifests.autoscaler(spec, process_type, rule))
        for process_type in sorted(self._autoscaled(spec.app) - set(rules)):
            delete(self.cluster, "HorizontalPodAutoscaler", manifests.deployment_name(spec.app, process_type),
                   spec.app)


def _release_of(deployment):
    return ((deployment or {}).get("metadata", {}).get("labels") or {}).get(manifests.RELEASE)


def _kept_cluster_ip(desired, live):
    """A Service keeps the address it was given: it is what the router was handed."""
    if live is not None:
        desired["spec"] = dict(desired["spec"], **{k: live["spec"][k] for k in ("clusterIP", "clusterIPs")
                                                   if k in live["spec"]})
    return desired


def _carried(desired, live, keep_replicas):
    """What a PUT must keep of the live Deployment: replicas an autoscaler owns, and a `rollout restart`'s
    timestamp (dropping it would roll every pod again for nothing)."""
    if live is None:
        return desired
    if keep_replicas:
        desired["spec"] = dict(desired["spec"], replicas=live["spec"].get("replicas", 1))
    restarted = (live["spec"]["template"]["metadata"].get("annotations") or {}).get(manifests.RESTARTED_AT)
    if restarted:
        template = desired["spec"]["template"]
        desired["spec"] = dict(desired["spec"], template=dict(template, metadata=dict(
            template["metadata"], annotations={manifests.RESTARTED_AT: restarted})))
    return desired
