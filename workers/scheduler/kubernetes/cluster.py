"""The connection to a cluster's API through the official `kubernetes` client, and the one way calls fail.

Objects travel as plain dicts in the API's JSON (`_preload_content=False`), the same shape the manifests are
built in, so nothing is converted back and forth through the client's models. Vendor errors become
`SchedulerError` with a message a user or operator can act on; 429 and 5xx answers and dropped connections
are retried a few times first, since every call Pier makes is idempotent or guarded by a resourceVersion.
"""
import json
import logging
import time

from workers.scheduler.base import SchedulerError, SchedulerUnavailable

log = logging.getLogger("pier.scheduler.kubernetes")
CONNECT_SECONDS, READ_SECONDS = 5, 30
ATTEMPTS = 4
BACKOFF = (0.2, 0.5, 1.0)


class NotFound(SchedulerError):
    pass


class Conflict(SchedulerError):
    """409: someone changed the object since it was read (or it already exists)."""


class Gone(SchedulerError):
    """410: a watch's resourceVersion is older than the API server keeps; list again, then watch on."""


def connect(settings):
    """An ApiClient from PIER_KUBECONFIG (or KUBECONFIG), else the pod's service account, else ~/.kube/config."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException
    try:
        if settings.kubeconfig:
            api = config.new_client_from_config(config_file=settings.kubeconfig)
        else:
            try:
                configuration = client.Configuration()
                config.load_incluster_config(client_configuration=configuration)
                api = client.ApiClient(configuration)
            except ConfigException:
                api = config.new_client_from_config()
    except (ConfigException, OSError) as exc:
        raise SchedulerUnavailable(
            f"No Kubernetes cluster is configured: set PIER_KUBECONFIG (or KUBECONFIG) to a kubeconfig, or run "
            f"Pier in the cluster with a service account ({exc}).") from None
    api.configuration.retries = 0  # retried here, where it is known which calls may be
    return api


class Cluster:
    """The API groups Pier uses, and `call` around each request."""

    def __init__(self, api_client):
        from kubernetes import client
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.autoscaling = client.AutoscalingV2Api(api_client)
        self.host = api_client.configuration.host

    def call(self, method, *args, what="", stream=False, read_seconds=READ_SECONDS, **kwargs):
        """Runs one client method; returns the answer's JSON (or the raw response when `stream`)."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError
        kwargs.setdefault("_request_timeout", (CONNECT_SECONDS, read_seconds))
        for attempt in range(ATTEMPTS):
            try:
                response = method(*args, _preload_content=False, **kwargs)
            except ApiException as exc:
                if (exc.status == 429 or exc.status >= 500) and attempt + 1 < ATTEMPTS:
                    log.warning("%s answered %s to %s; trying again", self.host, exc.status, what)
                    time.sleep(BACKOFF[attempt])
                    continue
                raise _translated(exc, what) from None
            except HTTPError as exc:
                if attempt + 1 < ATTEMPTS:
                    time.sleep(BACKOFF[attempt])
                    continue
                raise SchedulerUnavailable(
                    f"The Kubernetes API at {self.host} cannot be reached ({type(exc).__name__}) to {what}; "
                    "check PIER_KUBECONFIG and that the cluster is up, then try again.") from None
            if stream:
                return response
            data = response.data
            return json.loads(data) if data else {}


def status_message(exc):
    """The `message` of the Status object Kubernetes answers errors with, else the HTTP reason."""
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return exc.reason or ""


def _translated(exc, what):
    message = status_message(exc)
    if exc.status == 404:
        return NotFound(f"{what}: not found ({message})")
    if exc.status == 409:
        return Conflict(f"{what}: {message}")
    if exc.status == 410:
        return Gone(f"{what}: {message}")
    if exc.status == 422:
        return SchedulerError(f"Kubernetes refused to {what}: {message}")
    if exc.status in (401, 403):
        return SchedulerError(f"Pier may not {what} on this cluster ({exc.status}: {message}); its service "
                              "account needs the permissions in workers/scheduler/kubernetes/permissions.py.")
    return SchedulerError(f"The Kubernetes API answered {exc.status} to {what}: {message}. Try again.")
