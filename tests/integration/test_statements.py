"""core/statements.py: hot statements run on the session's psycopg connection give what SQLAlchemy gives, with
the statement's own parameters, and fail as SQLAlchemy fails."""
import pytest
from sqlalchemy import PickleType, bindparam, func, literal_column, select
from sqlalchemy.exc import OperationalError

from core import statements
from core.extensions import db
from core.models import App, User
from core.services import apps as app_service
from tests.integration.test_pool import _terminate
from tests.conftest import settings_for_tests

APP_ROW = select(App.id, App.uuid, App.created, User.username, func.to_char(App.created, "YYYY")).join(
    User, App.owner_id == User.id).where(App.id == bindparam("app_id"))


@pytest.fixture
def two_apps(ctx):
    user = User(username="stmt", email="stmt@example.com", password_hash="x")
    db.session.add(user)
    db.session.commit()
    for name in ("stmt-one", "stmt-two"):
        app_service.create(user, name)
    db.session.remove()


def test_rows_are_sqlalchemys_with_the_statements_constants(two_apps):
    expected = db.session.execute(APP_ROW, {"app_id": "stmt-two"}).one()
    db.session.remove()
    row = statements.one_or_none(APP_ROW, app_id="stmt-two")
    assert tuple(row) == tuple(expected) and row.id == "stmt-two" and row.username == "stmt"
    assert statements.one_or_none(APP_ROW, app_id="none") is None
    assert statements.scalar(select(func.count(App.uuid))) == 2
    assert statements.scalars(select(App.id).order_by(App.id.desc())) == ["stmt-two", "stmt-one"]


def test_the_parameters_must_be_the_statements(ctx):
    with pytest.raises(TypeError, match=r"\['app_id'\], not \[\]"):
        statements.one_or_none(APP_ROW)
    with pytest.raises(TypeError, match=r"not \['app_id', 'other'\]"):
        statements.one_or_none(APP_ROW, app_id="a", other=1)


def test_a_statement_that_needs_sqlalchemys_type_processing_is_refused(ctx):
    with pytest.raises(ValueError, match="type processing"):
        statements.scalar(select(literal_column("NULL", PickleType)))


def test_a_connection_the_server_dropped_fails_as_sqlalchemy_fails_and_is_not_used_again(ctx):
    pid = statements.scalar(select(func.pg_backend_pid()))  # the session's connection, checked out
    _terminate(settings_for_tests().database_url, [pid])
    with pytest.raises(OperationalError) as failure:
        statements.scalar(select(func.pg_backend_pid()).where(literal_column("'secret-hash'") != bindparam("k")),
                          k="another-secret")
    assert "SQL parameters hidden" in str(failure.value) and "another-secret" not in str(failure.value)
    db.session.remove()
    assert statements.scalar(select(func.pg_backend_pid())) != pid
