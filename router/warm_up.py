"""What a parent about to fork the router runs once (the workers' fleet, through core/pool.py's before_fork): the
router's reads and rendering. The forked router then finds their code specialized and their statements compiled
in the pages it shares with that parent, and writes fewer of its own (bench/footprint.py: 36 -> 29 MiB).

Kept apart from router.sync on purpose: that module makes the router's metrics, and a metric made in the parent
would show up in every other child that serves prometheus_client's default registry (the watcher, the builder,
flower).
"""
from router.render import render
from router.routes import attached_certificates, desired_routes


def warm_up(flask_app):
    """Reads only; run in the app's context, on the parent's first connection."""
    settings = flask_app.config["PIER"]
    routes = desired_routes(settings.domain, {})
    attached_certificates()
    render(routes, trusted_proxies=settings.router_trusted_proxies)
