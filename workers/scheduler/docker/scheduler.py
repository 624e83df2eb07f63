"""The Docker scheduler: one container per process instance on the local Docker engine (single host)."""
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from requests.exceptions import RequestException

from core import images
from workers.scheduler.base import Scheduler, SchedulerError
from workers.scheduler.docker import containers as specs
from workers.scheduler.docker.events import watch_events
from workers.scheduler.docker.logs import follow_logs
from workers.scheduler.docker.probes import passes, seconds_running
from workers.scheduler.spec import Pod, utilization

log = logging.getLogger("pier.scheduler.docker")
LOG_TAIL_ON_FAILURE = 20
START_CONCURRENCY = 8  # containers created at once: the engine overlaps their set-up
ROUTER_WAIT_SECONDS = 10  # a deploy waits this long at most for the router to route its new containers
READY_POLL_SECONDS = 0.05  # a new container's port is tried this often until it is ready
RELOAD_SECONDS = 0.25  # and its state read from the engine this often
STATS_CONCURRENCY = 8  # containers sampled at once: each `docker stats --no-stream` takes about a second
label = specs.label


def _process_containers(found):
    """App process containers only: not one-off runs, and not a build's temporary container (which carries
    the app label but no release)."""
    return [c for c in found if c.labels.get(label("type")) not in (None, specs.RUN_TYPE)
            and c.labels.get(label("release"))]


class DockerScheduler(Scheduler):
    def __init__(self, settings, routing=None, client=None):
        super().__init__(settings, routing)
        try:
            self.client = client or docker.from_env(timeout=120)
            self.client.ping()
        except DockerException as exc:
            raise SchedulerError(f"The Docker engine is not reachable: {exc}") from None

    # -- queries ------------------------------------------------------------------------------------------
    def _containers(self, **labels):
        filters = {"label": [f"{label(k.replace('_', '-'))}={v}" for k, v in labels.items()]}
        return _process_containers(self.client.containers.list(all=True, filters=filters,
                                                                ignore_removed=True))

    def _ip(self, container):
        network = (container.attrs["NetworkSettings"].get("Networks") or {}).get(specs.NETWORK) or {}
        return network.get("IPAddress") or ""

    def _pod(self, container):
        state = container.attrs["State"]
        status = state["Status"]
        process_type = container.labels[label("type")]
        serving = status == "running" and not state.get("Restarting") and specs.routable(process_type)
        endpoint = f"{self._ip(container)}:{self._container_port(container)}" if serving else ""
        return Pod(name=container.name, type=process_type,
                   release=container.labels[label("release")],
                   started=(state.get("StartedAt") or "")[:19] + "Z",
                   state=specs.pod_state(status, state.get("ExitCode"), state.get("Restarting")),
                   ready=status == "running" and not state.get("Restarting"),
                   reason="OOMKilled" if state.get("OOMKilled") else "",
                   recovering=bool(state.get("Restarting")), endpoint=endpoint,
                   app_uuid=container.labels.get(label("app-uuid"), ""))

    def pods(self, app_id):
        return sorted((self._pod(c) for c in self._containers(app=app_id)), key=lambda p: (p.type, p.name))

    def observe(self):
        grouped = {}
        for container in _process_containers(self.client.containers.list(all=True, filters={"label": label("app")},
                                                                          ignore_removed=True)):
            grouped.setdefault(container.labels[label("app")], []).append(self._pod(container))
        return {app: sorted(pods, key=lambda p: (p.type, p.name)) for app, pods in grouped.items()}

    def cpu_usage(self, spec, process_types):
        running = [c for c in self._containers(app_uuid=spec.app_uuid, release=spec.release)
                   if c.labels[label("type")] in process_types and c.status == "running"]
        with ThreadPoolExecutor(max_workers=STATS_CONCURRENCY) as pool:
            samples = list(pool.map(self._cores_used, running))
        usage = {process_type: [] for process_type in process_types}
        for container, cores in zip(running, samples):
            if cores is not None:
                process_type = container.labels[label("type")]
                usage[process_type].append(utilization(cores, spec.cpu_request(process_type)))
        return usage

    def _cores_used(self, container):
        try:
            return specs.cores_used(container.stats(stream=False))
        except (NotFound, APIError, RequestException):  # it went, or the engine was slow: no sample this time
            return None

    # -- set-up -------------------------------------------------------------------------------------------
    def _ensure_network(self):
        if not self.client.networks.list(names=[specs.NETWORK]):
            self.client.networks.create(specs.NETWORK, driver="bridge", options=specs.NETWORK_OPTIONS)

    def _image(self, spec):
        try:
            return self.client.images.get(spec.image)
        except ImageNotFound:
            pass
        registry, _ = images.registry_and_repository(spec.image)
        # the platform's own registry answers to its credentials only; any other, to the app's (if set)
        own = images.is_platform_registry(registry, self.settings.registry)
        auth = self.settings.registry_auth() if own else (spec.registry or None)
        try:
            return self.client.images.pull(spec.image, auth_config=auth)
        except DockerException as exc:
            raise SchedulerError(f"image {spec.image} not found or not pullable: {exc}") from None

    def _port(self, spec):
        image = self._image(spec)
        return specs.port_for(spec, (image.attrs.get("Config") or {}).get("ExposedPorts") or {})

    def _check_tags(self, spec):
        missing = specs.unmatched_tags(spec.tags, self.client.info().get("Labels") or [])
        if missing:
            raise SchedulerError("No nodes matched the provided labels: " +
                                 ", ".join(f"{k}={v}" for k, v in sorted(missing.items())))

    def _start(self, spec, process_type, index, port):
        """Starts one instance, or keeps it if a redelivered job already started it."""
        wanted = specs.container_spec(spec, process_type, index, port, self.settings)
        try:
            existing = self.client.containers.get(wanted["name"])
            same = (existing.labels.get(label("app-uuid")) == spec.app_uuid
                    and existing.attrs["Config"].get("Image") == spec.image)
            if existing.status == "running" and same:
                return existing
            # stopped, or a leftover of an earlier app that had this name: it must not stand in for ours
            existing.remove(force=True)
        except NotFound:
            pass
        try:
            return self.client.containers.run(**wanted)
        except APIError as exc:
            raise SchedulerError(f"could not start {wanted['name']}: {exc.explanation or exc}") from None

    def _start_all(self, spec, instances, port):
        """Starts (type, index) instances in parallel; on any failure removes those it started and raises."""
        started = []
        try:
            began = time.monotonic()
            with ThreadPoolExecutor(max_workers=START_CONCURRENCY) as pool:
                futures = [pool.submit(self._start, spec, t, i, port) for t, i in instances]
                started = [f.result() for f in futures if f.exception() is None]
                for future in futures:
                    if future.exception() is not None:
                        raise future.exception()
            self.timed("start", began)
            began = time.monotonic()
            self._wait_ready(spec, started, port)
            self.timed("ready", began)
        except Exception:
            self._remove(started)
            raise
        return started

    # -- deploy and scale ---------------------------------------------------------------------------------
    def deploy(self, spec, structure, retire=True):
        """Starts the release's containers, waits until they are ready and publishes them to the router; then
        (or later, through `retire`) lets requests drain and stops everything else of the app. On failure the
        new containers are removed and the running ones keep serving."""
        self.spent = {}
        began = time.monotonic()
        self._check_tags(spec)
        self._ensure_network()
        port = self._port(spec)
        self.timed("image", began)
        wanted = [(t, i) for t, count in sorted(structure.items()) for i in range(1, count + 1)]
        started = self._start_all(spec, wanted, port)
        keep = {c.id for c in started}
        began = time.monotonic()
        self._publish(spec.app, started, port)
        self.timed("routed", began)
        leftovers = [c.id for c in self._containers(app_uuid=spec.app_uuid) if c.id not in keep]
        if retire:
            self.retire(leftovers)
            return []
        return leftovers

    def retire(self, leftovers):
        """Lets requests to the given containers drain, then stops and removes them (those still there)."""
        if not leftovers:
            return
        time.sleep(self.settings.drain_seconds)
        found = []
        for container_id in leftovers:
            try:
                found.append(self.client.containers.get(container_id))
            except NotFound:
                pass
        self._remove(found, graceful=True)

    def scale(self, spec, structure, retire=True):
        return self.deploy(spec, structure, retire)

    def _publish(self, app_id, serving, port):
        """Tells the router which containers serve now, and waits (a little) until it routes them: the
        release is live once the router sends it traffic, not when its containers are ready."""
        endpoints = {}
        for container in serving:
            process_type = container.labels[label("type")]
            if specs.routable(process_type):
                endpoints.setdefault(process_type, []).append(f"{self._ip(container)}:{port}")
        version = self.routing.publish(app_id, endpoints)
        if version:
            self.routing.wait_routed(version, ROUTER_WAIT_SECONDS)

    def _wait_ready(self, spec, containers, port):
        """Until every container passes its readiness check. Ports are tried every READY_POLL_SECONDS; the
        engine is asked for a container's state (has it exited?) at most every RELOAD_SECONDS: with ten
        containers starting, asking for all of them at each turn kept the engine busy answering."""
        deadline = time.monotonic() + self.settings.deploy_timeout
        pending = {container.id: [container, None] for container in containers}  # id -> [container, read at]
        while pending:
            for key, entry in list(pending.items()):
                container, read_at = entry
                now = time.monotonic()
                if read_at is None or not self._ip(container) or now - read_at >= RELOAD_SECONDS:
                    container.reload()
                    entry[1] = now
                    state = container.attrs["State"]
                    if state["Status"] in ("exited", "dead") or state.get("Restarting"):
                        raise SchedulerError(self._failure(container, "exited while starting"))
                process_type, ip = container.labels[label("type")], self._ip(container)
                if ip and passes(container, ip, port, spec.probe(process_type, "readinessProbe"),
                                 routable=specs.routable(process_type)):
                    del pending[key]
            if pending and time.monotonic() > deadline:
                container = next(iter(pending.values()))[0]
                raise SchedulerError(self._failure(container, f"was not ready within "
                                                              f"{self.settings.deploy_timeout:.0f}s"))
            if pending:
                time.sleep(READY_POLL_SECONDS)

    def _failure(self, container, what):
        tail = container.logs(tail=LOG_TAIL_ON_FAILURE).decode("utf-8", "replace").rstrip()
        return f"{container.name} {what}." + (f" Last log lines:\n{tail}" if tail else " It printed nothing.")

    def _remove(self, containers, graceful=False):
        for container in containers:
            try:
                if graceful:
                    container.stop(timeout=self.settings.stop_grace_seconds)
                container.remove(force=True)
            except NotFound:
                pass
            except APIError as exc:  # 409 "removal already in progress": another job removes it
                if exc.status_code != 409 or "already in progress" not in str(exc.explanation):
                    raise

    # -- the rest of `ps` -----------------------------------------------------------------------------------
    def restart(self, spec, structure, process_type=None, name=None):
        """Rolling: each chosen container steps aside (renamed), its replacement starts under its name, and
        once the replacements are ready and routed the old ones drain and stop."""
        current = [c for c in self._containers(app_uuid=spec.app_uuid, release=spec.release)
                   if process_type in (None, c.labels.get(label("type"))) and name in (None, c.name)]
        if (process_type or name) and not current:
            raise SchedulerError(f"No pods of {spec.app} match {name or process_type}.")
        port = self._port(spec)
        suffix = uuid.uuid4().hex[:6]
        renamed = []
        try:
            for container in current:
                container.rename(f"{container.name}.old-{suffix}")
                renamed.append((container, container.name))
            instances = [(c.labels[label("type")], int(c.labels[label("index")])) for c in current]
            started = self._start_all(spec, instances, port)
        except Exception:
            for container, original in renamed:
                container.rename(original)
            raise
        replaced = {c.id for c in current}
        serving = [c for c in self._containers(app_uuid=spec.app_uuid, release=spec.release)
                   if c.id not in replaced and c.status == "running"]
        self._publish(spec.app, serving, port)
        time.sleep(self.settings.drain_seconds)
        self._remove(current, graceful=True)
        for container in started:
            container.reload()
        return [self._pod(c) for c in started]

    def run(self, spec, command):
        self._ensure_network()
        container = self.client.containers.run(**specs.run_spec(spec, command, self._port(spec), self.settings))
        try:
            try:
                result = container.wait(timeout=self.settings.job_time_limit)
            except RequestException:
                raise SchedulerError(f"the command did not finish within {self.settings.job_time_limit}s") from None
            output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
            return result["StatusCode"], output
        finally:
            container.remove(force=True)

    def failing_liveness(self, spec):
        failing = []
        for container in self._containers(app_uuid=spec.app_uuid, release=spec.release):
            process_type = container.labels[label("type")]
            probe = spec.probe(process_type, "livenessProbe")
            if probe is None or container.status != "running":
                continue
            if seconds_running(container) < probe.get("initialDelaySeconds", 0):
                continue  # not judged before its initial delay
            if not passes(container, self._ip(container), self._container_port(container), probe, routable=True):
                failing.append((container.name, process_type))
        return failing

    def _container_port(self, container):
        env = dict(e.split("=", 1) for e in container.attrs["Config"].get("Env") or [] if "=" in e)
        return int(env.get("PORT", specs.DEFAULT_PORT))

    def destroy(self, app_id, app_uuid):
        self._remove(self.client.containers.list(all=True, filters={"label": f"{label('app-uuid')}={app_uuid}"},
                                                ignore_removed=True))

    def watch(self, on_change, stop, interval=1.0):
        watch_events(self.client, on_change, stop, interval)

    def collect_logs(self, sink, stop, resume=None):
        follow_logs(self.client, sink, stop, resume)
