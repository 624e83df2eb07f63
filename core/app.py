"""The core's Flask application: settings and the database session, with no HTTP routes.

Every process that touches the database stands on it: the controller adds its blueprints, the workers bind
Celery to it, the router reads routes through it.
"""
import functools
import logging
import os

from core.settings import Settings

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_core_app(settings=None, name="pier", migrations=False):
    # Imported here, not above: `core.settings` alone is what the builder's git hook needs, and it starts
    # on every push (Flask, SQLAlchemy and Alembic cost it over a second).
    from flask import Flask

    from core import pool
    from core.extensions import db

    settings = settings or Settings.from_env()
    app = Flask(name, static_folder=None)
    app.config.update(
        PIER=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        # no pool_pre_ping: core.pool checks a connection at checkout without a round trip
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 20, "pool_recycle": 3600},
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            pool.install(engine)
    if migrations:
        add_migrations(app)
    return app


@functools.cache
def process_app():
    """The process's own core app, from its environment, made on first use: the workers bind Celery to it and the
    router reads the routes through it. In the workers' fleet the parent made it, configured the mappers and made
    its engine's first connection before forking (core/pool.py's before_fork), so each child finds it ready."""
    return create_core_app(name="pier")


def add_migrations(app):
    """Flask-Migrate (Alembic) on the app, for `flask db ...` and flask_migrate.upgrade(). Only the set-up and the
    tests migrate: every long-running process would otherwise carry Alembic (about 11 MiB each) for nothing."""
    from flask_migrate import Migrate

    from core.extensions import db
    Migrate(app, db, directory=MIGRATIONS)
    return app


def create_migrations_app():
    """What `flask --app core.app:create_migrations_app db upgrade` (make migrate) migrates with."""
    return create_core_app(name="migrations", migrations=True)
