"""One module per resource; importing them attaches their routes to the v2 blueprint."""


def register_blueprints(app):
    from api.blueprint import v2
    from api.views import (  # noqa: F401
        apps,
        auth,
        backups,
        builds,
        certs,
        config,
        domains,
        gc,
        health,
        hooks,
        keys,
        logs,
        openapi,
        operations,
        perms,
        pods,
        releases,
        routing,
    )
    app.register_blueprint(v2)
    app.register_blueprint(health.probes)
