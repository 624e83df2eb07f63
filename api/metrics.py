"""The controller's metrics at GET /metrics (prometheus-flask-exporter): requests by route rule and status,
with latency histograms.

Requests are labelled by their route rule (`/v2/apps/<app_id>`), never by their path, so the number of series
stays that of the routes. The endpoint sits on the API's own port, open to anyone who reaches it, so it asks
for `Authorization: Bearer <PIER_METRICS_TOKEN>`; without a token set it answers 404.

Under gunicorn each worker process counts its own requests into prometheus_client's multiprocess folder
(prepared by gunicorn.conf.py), and whichever worker answers /metrics serves the sum of all of them; the
exporter reads that folder whenever PROMETHEUS_MULTIPROC_DIR is set, and its own registry otherwise.
"""
import functools
import hmac

from flask import current_app, request
from prometheus_client import CollectorRegistry
from prometheus_flask_exporter import PrometheusMetrics

from core.errors import NotAuthenticated, NotFound

# requests that wait for a deploy take up to PIER_SYNC_TIMEOUT (120 s)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


def token_required(view):
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        token = current_app.config["PIER"].metrics_token
        if not token:
            raise NotFound("Metrics are off: set PIER_METRICS_TOKEN to serve them.")
        presented = request.headers.get("Authorization", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
            raise NotAuthenticated("Send the metrics token: Authorization: Bearer <PIER_METRICS_TOKEN>.")
        return view(*args, **kwargs)
    return guarded


def register_metrics(app):
    # a registry per app: the exporter leaves a second app untracked when the names are taken in a shared one
    return PrometheusMetrics(app, path="/metrics", registry=CollectorRegistry(), group_by="url_rule",
                             defaults_prefix="pier_api", buckets=BUCKETS, metrics_decorator=token_required)
