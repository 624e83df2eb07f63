"""gunicorn's master, before it forks the workers: requests through the app, so the workers share the pages a
first request writes into (Flask's, the hooks', the views') instead of each copying them (bench/footprint.py).

They touch neither the database nor Redis (/healthz, and /v2/apps without a token, refused through the API's error
path), and the metrics exporter does not count them (`prom_do_not_track`): counted here, they would be added up
with the workers' counts."""
from flask import request


def warm_up(app):
    for path in ("/healthz", "/v2/apps"):
        with app.test_request_context(path):
            request.prom_do_not_track = True
            app.full_dispatch_request()
