"""The controller: Pier's HTTP API, the only owner of the database."""
import logging
import os

from api.settings import API_VERSION, VERSION, Settings

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(settings=None):
    # Imported here, not above: `api.settings` alone is what the builder's git hook needs, and it starts
    # on every push (Flask, SQLAlchemy and Alembic cost it over a second).
    from flask import Flask

    from api.errors import register_error_handlers
    from api.extensions import db, migrate

    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=None)
    app.config.update(
        PIER=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 20, "pool_recycle": 3600},
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    register_error_handlers(app)

    from api.views import register_blueprints
    from workers.celery_app import make_celery
    register_blueprints(app)
    make_celery(app)

    @app.after_request
    def version_headers(response):
        response.headers["DEIS_API_VERSION"] = API_VERSION
        response.headers["DEIS_PLATFORM_VERSION"] = VERSION
        return response

    return app
