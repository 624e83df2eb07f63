"""What Pier asks of a scheduler. Implementations: Docker (single host) and, later, Kubernetes."""


class SchedulerError(Exception):
    """A failure the user can act on; its text reaches the API client as it is."""


class SchedulerUnavailable(SchedulerError):
    pass


class Scheduler:
    """One app's processes on some container runtime.

    `spec` arguments are plain dicts built by `workers.runners.specs.release_spec` from database rows:
    app id and uuid, release version, image, procfile, environment, limits, tags, registry
    credentials and healthchecks.
    """

    def __init__(self, settings):
        self.settings = settings

    def deploy(self, spec, structure):
        """Runs `spec`'s process types at `structure`'s scale; replaces older releases once ready."""
        raise NotImplementedError

    def scale(self, spec, structure):
        raise NotImplementedError

    def restart(self, app_id, process_type=None, name=None):
        """Restarts containers; returns the new pod list (dicts as in `pods`)."""
        raise NotImplementedError

    def run(self, spec, command):
        """Runs a one-off command; returns (exit_code, output)."""
        raise NotImplementedError

    def pods(self, app_id, process_type=None):
        """Returns [{"name", "release", "started", "state", "type"}]."""
        raise NotImplementedError

    def pods_by_app(self):
        """Every app's pods in one call: {app id: [pod, ...]}, for the reconcile loop."""
        raise NotImplementedError

    def logs(self, app_id, lines=None, since=None):
        """Returns (timestamp, container name, text) tuples, oldest first: the last `lines` of them, and
        only those stamped after `since` (an ISO 8601 UTC timestamp) when it is given."""
        raise NotImplementedError

    def failing_liveness(self, spec):
        """(container name, process type) of the release's running containers whose liveness probe fails
        right now. A scheduler whose runtime enforces liveness itself (Kubernetes) returns []."""
        raise NotImplementedError

    def destroy(self, app_uuid):
        """Removes every container of the app; succeeds when there is nothing left to remove."""
        raise NotImplementedError
