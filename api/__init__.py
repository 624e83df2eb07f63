"""The controller's HTTP edge: Pier's v2 API. It parses, authorizes, calls a core service and serializes."""
from core.settings import API_VERSION, VERSION


def _synchronous(function):
    return function


def create_app(settings=None):
    from api import gate, ratelimit
    from api.auth import Globals, NoSessions
    from api.errors import register_error_handlers
    from api.metrics import register_metrics
    from api.views import register_blueprints
    from core.app import create_core_app

    app = create_core_app(settings, name="api")
    app.app_ctx_globals_class = Globals
    app.config.update(JSON_SORT_KEYS=False)
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    register_error_handlers(app)
    register_blueprints(app)
    register_metrics(app)
    ratelimit.install(app)
    # Every view and hook is synchronous (tests/integration/test_apps.py checks): without this, Flask asks the
    # inspect module, for each of a request's hooks and its view, whether it is a coroutine function.
    app.ensure_sync = _synchronous
    # Callers authenticate with tokens: no request reads or writes a cookie session, so none is opened.
    app.session_interface = NoSessions()
    # At most PIER_WEB_ACTIVE requests of a worker run at once (api/gate.py).
    gate.install(app)

    @app.after_request
    def version_headers(response):
        response.headers["DEIS_API_VERSION"] = API_VERSION
        response.headers["DEIS_PLATFORM_VERSION"] = VERSION
        return response

    return app
