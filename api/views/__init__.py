from flask import Blueprint

from api.auth import authenticate_request
from api.http import refuse_nul_in_url

v2 = Blueprint("v2", __name__, url_prefix="/v2")
v2.before_request(refuse_nul_in_url)
v2.before_request(authenticate_request)


def register_blueprints(app):
    # Importing the modules attaches their routes to the v2 blueprint.
    from api.views import (apps, auth, builds, certs, config, domains, health, hooks, keys, logs,  # noqa: F401
                           openapi, operations, perms, pods, releases, routing)
    app.register_blueprint(v2)
    app.register_blueprint(health.probes)
