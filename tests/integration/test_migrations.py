"""Migrations: one head, upgrade from an empty database, models and schema agree, downgrade and back."""
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from api import create_app
from core.app import MIGRATIONS, add_migrations
from core.extensions import db
from tests.conftest import settings_for_tests


@pytest.fixture
def empty_database():
    base = make_url(os.environ["PIER_TEST_DATABASE_URL"])
    name = f"pier_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_there_is_one_head():
    heads = ScriptDirectory(MIGRATIONS).get_heads()
    assert len(heads) == 1, heads


def test_upgrade_from_empty_matches_the_models_and_downgrades(empty_database):
    flask_app = add_migrations(create_app(settings_for_tests(database_url=empty_database)))
    with flask_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert differences == [], "models changed without a migration: " + repr(differences)
            assert "apps" in inspect(conn).get_table_names()
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as conn:
            assert "releases" in inspect(conn).get_table_names()
        db.engine.dispose()
