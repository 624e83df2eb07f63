"""The Docker scheduler: one container per process instance on the local Docker engine (single host)."""
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from requests.exceptions import RequestException

from workers.endpoints import Endpoints
from workers.scheduler import docker_spec as specs
from workers.scheduler.base import Scheduler, SchedulerError
from workers.scheduler.probes import ready, seconds_running

log = logging.getLogger("pier.scheduler.docker")
LOG_TAIL_ON_FAILURE = 20
START_CONCURRENCY = 8  # containers created at once: the engine overlaps their set-up
ROUTER_WAIT_SECONDS = 10  # a deploy waits this long at most for the router to route its new containers


def _label(name):
    return f"{specs.LABEL}.{name}"


class DockerScheduler(Scheduler):
    def __init__(self, settings, client=None):
        super().__init__(settings)
        try:
            self.client = client or docker.from_env(timeout=120)
            self.client.ping()
        except DockerException as exc:
            raise SchedulerError(f"The Docker engine is not reachable: {exc}") from None
        self.endpoints = Endpoints(settings.redis_url)

    # -- queries ------------------------------------------------------------------------------------------
    def _containers(self, **labels):
        filters = {"label": [f"{_label(k.replace('_', '-'))}={v}" for k, v in labels.items()]}
        return self.client.containers.list(all=True, filters=filters)

    def _ip(self, container):
        return container.attrs["NetworkSettings"]["Networks"][specs.NETWORK]["IPAddress"]

    def _pod(self, container):
        state = container.attrs["State"]
        return {"name": container.name, "release": container.labels[_label("release")],
                "started": (state.get("StartedAt") or "")[:19] + "Z",
                "state": specs.pod_state(state["Status"], state.get("ExitCode"), state.get("Restarting")),
                "type": container.labels[_label("type")]}

    def pods(self, app_id, process_type=None):
        found = self._containers(app=app_id, type=process_type) if process_type else self._containers(app=app_id)
        pods = [self._pod(c) for c in found if c.labels.get(_label("type")) != "run"]
        return sorted(pods, key=lambda p: (p["type"], p["name"]))

    def pods_by_app(self):
        grouped = {}
        for container in self.client.containers.list(all=True, filters={"label": _label("app")}):
            if container.labels.get(_label("type")) != "run":
                grouped.setdefault(container.labels[_label("app")], []).append(self._pod(container))
        return grouped

    # -- set-up -------------------------------------------------------------------------------------------
    def _ensure_network(self):
        if not self.client.networks.list(names=[specs.NETWORK]):
            self.client.networks.create(specs.NETWORK, driver="bridge")

    def _image(self, spec):
        try:
            return self.client.images.get(spec["image"])
        except ImageNotFound:
            pass
        auth = spec["registry"] or None
        try:
            return self.client.images.pull(spec["image"], auth_config=auth)
        except DockerException as exc:
            raise SchedulerError(f"image {spec['image']} not found or not pullable: {exc}") from None

    def _check_tags(self, spec):
        missing = specs.unmatched_tags(spec["tags"], self.client.info().get("Labels") or [])
        if missing:
            raise SchedulerError("No nodes matched the provided labels: " +
                                 ", ".join(f"{k}={v}" for k, v in sorted(missing.items())))

    def _start(self, spec, process_type, index, port):
        """Starts one instance, or keeps it if a redelivered job already started it."""
        wanted = specs.container_spec(spec, process_type, index, port)
        try:
            existing = self.client.containers.get(wanted["name"])
            same = (existing.labels.get(_label("app-uuid")) == spec["app_uuid"]
                    and existing.attrs["Config"].get("Image") == spec["image"])
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

    # -- deploy and scale ---------------------------------------------------------------------------------
    def deploy(self, spec, structure):
        """Starts the release's containers, waits until they are ready, publishes them to the router, lets
        requests drain, then stops everything else of the app. On failure the new containers are removed
        and the running ones keep serving."""
        self._check_tags(spec)
        self._ensure_network()
        image = self._image(spec)
        port = specs.port_for(spec, (image.attrs.get("Config") or {}).get("ExposedPorts") or {})
        wanted = [(t, i) for t, count in sorted(structure.items()) for i in range(count)]
        started = []
        try:
            with ThreadPoolExecutor(max_workers=START_CONCURRENCY) as pool:
                futures = [pool.submit(self._start, spec, t, i, port) for t, i in wanted]
                started = [f.result() for f in futures if f.exception() is None]
                for future in futures:
                    if future.exception() is not None:
                        raise future.exception()
            self._wait_ready(spec, started, port)
        except Exception:
            self._remove(started)
            raise
        keep = {c.id for c in started}
        version = self.endpoints.publish(spec["app"], self._endpoints(started, port))
        if version:
            # the release is live once the router sends it traffic, not when its containers are ready
            self.endpoints.wait_routed(version, ROUTER_WAIT_SECONDS)
        old = [c for c in self._containers(app_uuid=spec["app_uuid"])
               if c.id not in keep and c.labels.get(_label("type")) != "run"]
        if old:
            time.sleep(self.settings.drain_seconds)
            self._remove(old, graceful=True)

    def scale(self, spec, structure):
        self.deploy(spec, structure)

    def _endpoints(self, containers, port):
        endpoints = {}
        for container in containers:
            process_type = container.labels[_label("type")]
            if process_type in specs.ROUTABLE_TYPES:
                endpoints.setdefault(process_type, []).append(f"{self._ip(container)}:{port}")
        return endpoints

    def _wait_ready(self, spec, containers, port):
        deadline = time.monotonic() + self.settings.deploy_timeout
        pending = list(containers)
        while pending:
            for container in list(pending):
                container.reload()
                state = container.attrs["State"]
                if state["Status"] in ("exited", "dead") or state.get("Restarting"):
                    raise SchedulerError(self._failure(container, "exited while starting"))
                probe = (spec["healthcheck"].get(container.labels[_label("type")]) or {}).get("readinessProbe")
                if ready(container, self._ip(container), port, probe,
                         routable=container.labels[_label("type")] in specs.ROUTABLE_TYPES):
                    pending.remove(container)
            if pending and time.monotonic() > deadline:
                raise SchedulerError(self._failure(pending[0], f"was not ready within "
                                                               f"{self.settings.deploy_timeout:.0f}s"))
            if pending:
                time.sleep(0.2)

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

    # -- the rest of `ps` -----------------------------------------------------------------------------------
    def restart(self, app_id, process_type=None, name=None):
        found = [c for c in self._containers(app=app_id) if c.labels.get(_label("type")) != "run"
                 and process_type in (None, c.labels.get(_label("type"))) and name in (None, c.name)]
        if (process_type or name) and not found:
            raise SchedulerError(f"No pods of {app_id} match {name or process_type}.")
        for container in found:
            container.restart(timeout=self.settings.stop_grace_seconds)
            container.reload()
        return [self._pod(c) for c in found]

    def run(self, spec, command):
        self._ensure_network()
        image = self._image(spec)
        port = specs.port_for(spec, (image.attrs.get("Config") or {}).get("ExposedPorts") or {})
        container = self.client.containers.run(**specs.run_spec(spec, command, port))
        try:
            try:
                result = container.wait(timeout=self.settings.job_time_limit)
            except RequestException:
                raise SchedulerError(f"the command did not finish within {self.settings.job_time_limit}s") from None
            output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
            return result["StatusCode"], output
        finally:
            container.remove(force=True)

    def logs(self, app_id, lines=None, since=None):
        entries = []
        after = specs.epoch_seconds(since) if since else None
        for container in self._containers(app=app_id):
            raw = container.logs(tail=lines or "all", timestamps=True, since=after)
            for line in raw.decode("utf-8", "replace").splitlines():
                stamp, _, text = line.partition(" ")
                if since is None or stamp > since:
                    entries.append((stamp, container.name, text))
        entries.sort()
        return entries[-lines:] if lines else entries

    def failing_liveness(self, spec):
        failing = []
        for container in self._containers(app_uuid=spec["app_uuid"], release=f"v{spec['version']}"):
            process_type = container.labels[_label("type")]
            probe = (spec["healthcheck"].get(process_type) or {}).get("livenessProbe")
            if probe is None or container.status != "running":
                continue
            if seconds_running(container) < probe.get("initialDelaySeconds", 0):
                continue  # not judged before its initial delay
            if not ready(container, self._ip(container), self._port(container), probe, routable=True):
                failing.append((container.name, process_type))
        return failing

    def _port(self, container):
        env = dict(e.split("=", 1) for e in container.attrs["Config"].get("Env") or [] if "=" in e)
        return int(env.get("PORT", specs.DEFAULT_PORT))

    def destroy(self, app_uuid):
        self._remove(self._containers(app_uuid=app_uuid))
