"""The scheduler port: what Pier asks of a container runtime. Backends: `memory` (tests and development),
`docker` (one host), `kubernetes` (a cluster). `tests/contract/` holds the behaviours every backend
shares; each backend passes the same test functions.

Every method names apps by id (and, where a backend keeps per-app objects, by uuid too, so that a new app
with an old name never inherits anything). Errors a user can act on are raised as `SchedulerError`, whose
text reaches the API client as it is.
"""
import time


class SchedulerError(Exception):
    """A failure the user can act on; its text reaches the API client as it is."""


class SchedulerUnavailable(SchedulerError):
    """No scheduler is configured, or its runtime cannot be reached."""


class Routing:
    """The hand-off to the router, given to a scheduler by whoever builds it. This one routes nothing: a
    scheduler without a router (tests, `run`) publishes into it."""

    def publish(self, app_id, endpoints):
        """Sets the app's ready endpoints ({process type: ["host:port"]}); returns a version to wait for,
        or 0 when nothing changed."""
        return 0

    def wait_routed(self, version, timeout):
        """True once the router serves `version`; False after `timeout` or when no router runs."""
        return False

    def clear(self, app_id):
        pass


class Scheduler:
    """One host or cluster running apps' processes."""

    # True when the runtime sizes process types itself from the rules `autoscale` hands it (Kubernetes'
    # HorizontalPodAutoscalers): the autoscale round then hands each app's rules over instead of sampling CPU.
    runtime_autoscales = False

    def __init__(self, settings, routing=None):
        self.settings = settings
        self.routing = routing or Routing()
        self.spent = {}  # where the last deploy's time went ({step: seconds}), for backends that say

    def timed(self, step, started):
        self.spent[step] = self.spent.get(step, 0.0) + time.monotonic() - started

    # -- changing what runs ---------------------------------------------------------------------------------
    def deploy(self, spec, structure, retire=True):
        """Runs `spec` at `structure` ({process type: replicas}). Every new process is ready and routed when it
        returns. With `retire`, older processes are then drained and stopped before it returns; without, it
        returns them (opaque leftovers) for `retire` to stop later, so the caller can say the release is live
        at once. On failure (SchedulerError with the reason and the failing process's last output) nothing new
        is left running and the previous release keeps serving. Running it again with the same arguments
        converges to the same state (redelivered jobs, reconcile)."""
        raise NotImplementedError

    def retire(self, leftovers):
        """Lets requests to what `deploy(..., retire=False)` returned drain, then stops it (what is still
        there). A runtime that retires by itself (a rolling update) returns no leftovers."""
        raise NotImplementedError

    def scale(self, spec, structure, retire=True):
        """Sets the replica counts of the running release `spec`; processes past a count are stopped (now, or
        returned as leftovers as `deploy` does)."""
        raise NotImplementedError

    def restart(self, spec, structure, process_type=None, name=None):
        """Replaces the processes of the release (all, one type, or the one named), each new one ready and
        routed before its predecessor stops. Returns the new pods."""
        raise NotImplementedError

    def run(self, spec, command):
        """Runs `command` (sh syntax) once in the release's image and environment; returns (exit code, output),
        stdout and stderr merged. Nothing is left behind."""
        raise NotImplementedError

    def destroy(self, app_id, app_uuid):
        """Removes everything the backend holds for the app; succeeds when nothing is left."""
        raise NotImplementedError

    def autoscale(self, spec, rules):
        """Hands the rules to a runtime that autoscales (`runtime_autoscales`): rules is {process type: {"min",
        "max", "cpu_percent"}} (the shape AppSettings.autoscale keeps), all the app's rules at once; types without
        a rule are no longer autoscaled. Idempotent: the autoscale round calls it every interval."""
        raise SchedulerError("autoscaling is not supported by this scheduler")

    # -- observing ------------------------------------------------------------------------------------------
    def cpu_usage(self, spec, process_types):
        """What the autoscaler samples: {process type: [utilization, ...]}, one figure per running process of the
        release, in percent of the process's CPU request (`spec.cpu_request`) or, without one, of one core. None
        when the runtime autoscales by itself (Kubernetes' HorizontalPodAutoscalers)."""
        raise NotImplementedError

    def pods(self, app_id):
        """The app's pods (`Pod`), one-off runs excluded, sorted by type and name."""
        raise NotImplementedError

    def observe(self):
        """Every app's pods in one call: {app id: [Pod, ...]}, for the reconcile loop and `ps`."""
        raise NotImplementedError

    def drift(self, spec, structure, pods):
        """Why the running processes differ from `spec` at `structure`, as a list of reasons (empty when
        they match): missing, exited or unready processes of the release, processes of other releases or
        types. Backends whose runtime restarts processes itself may judge differently."""
        from workers.scheduler.drift import differences
        return differences(spec, structure, pods)

    def endpoints(self, spec, pods):
        """The endpoints the router should send the release's traffic to, from observed pods: {type: [host:port]}.
        Reconcile republishes them whenever they differ from what the router was told (after Redis lost its
        data, or a process died)."""
        serving = {}
        for pod in pods:
            if pod.release == spec.release and pod.state == "up" and pod.endpoint:
                serving.setdefault(pod.type, []).append(pod.endpoint)
        return {process_type: sorted(found) for process_type, found in serving.items()}

    def failing_liveness(self, spec):
        """(pod name, process type) of the release's processes whose liveness probe fails right now. A
        backend whose runtime enforces liveness itself (Kubernetes) returns []."""
        raise NotImplementedError

    def watch(self, on_change, stop, interval=1.0):
        """Calls `on_change(app id)` soon after an app's processes change state (one dies, starts, goes),
        until `stop` is set. This default compares `observe()` every `interval` seconds; backends with an event
        stream use it instead."""
        before = {}
        while not stop.wait(interval):
            try:
                now = {app: {(p.name, p.state) for p in pods} for app, pods in self.observe().items()}
            except SchedulerError:
                continue
            for app in set(before) | set(now):
                if before.get(app) != now.get(app):
                    on_change(app)
            before = now

    def collect_logs(self, sink, stop, resume=None):
        """Feeds every line the apps' processes print to `sink(app id, pod name, ISO time, text)` until the
        `stop` event is set, following processes as they come and go. `resume(pod name)` gives the time of
        the last line already taken from that pod (or None), so a restarted collector repeats nothing."""
        raise NotImplementedError
