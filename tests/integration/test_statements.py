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
    assert statements.one_or_none(select(func.count(App.uuid))) == (2,)
    assert statements.execute(select(App.id).order_by(App.id.desc()), {}).fetchall() == [("stmt-two",), ("stmt-one",)]


def test_the_parameters_must_be_the_statements(ctx):
    with pytest.raises(TypeError, match=r"\['app_id'\], not \[\]"):
        statements.one_or_none(APP_ROW)
    with pytest.raises(TypeError, match=r"not \['app_id', 'other'\]"):
        statements.one_or_none(APP_ROW, app_id="a", other=1)


def test_a_statement_that_needs_sqlalchemys_type_processing_is_refused(ctx):
    with pytest.raises(ValueError, match="type processing"):
        statements.one_or_none(select(literal_column("NULL", PickleType)))


def test_a_connection_the_server_dropped_fails_as_sqlalchemy_fails_and_is_not_used_again(ctx):
    pid, = statements.one_or_none(select(func.pg_backend_pid()))  # the session's connection, checked out
    _terminate(settings_for_tests().database_url, [pid])
    with pytest.raises(OperationalError) as failure:
        statements.one_or_none(select(func.pg_backend_pid()).where(literal_column("'secret-hash'") != bindparam("k")),
                               k="another-secret")
    assert "SQL parameters hidden" in str(failure.value) and "another-secret" not in str(failure.value)
    db.session.remove()
    assert statements.one_or_none(select(func.pg_backend_pid())) != (pid,)


BACKEND = select(func.pg_backend_pid(), func.current_setting("transaction_isolation"),
                 func.txid_current_if_assigned())


def test_read_one_reads_on_a_pooled_connection_in_autocommit_and_gives_it_back(two_apps, ctx):
    row = statements.read_one(APP_ROW, app_id="stmt-one")
    assert row.id == "stmt-one" and row.username == "stmt"
    assert statements.read_one(APP_ROW, app_id="none") is None
    pool = db.engine.pool
    assert pool.checkedout() == 0, "the connection went back at once"
    # the pool's next user gets it as SQLAlchemy expects it: not in autocommit, so its writes are transactions
    with db.engine.connect() as connection:
        assert connection.connection.driver_connection.autocommit is False
    assert not db.session().in_transaction(), "the session was left alone"


def test_read_one_inside_the_sessions_transaction_sees_what_it_wrote(two_apps, ctx):
    db.session.execute(db.update(App).where(App.id == "stmt-one").values(structure={"web": 3}))
    web = select(func.jsonb_extract_path_text(App.structure, "web")).where(App.id == bindparam("app_id"))
    assert statements.read_one(web, app_id="stmt-one") == ("3",)
    db.session.rollback()
    assert statements.read_one(web, app_id="stmt-one") == (None,)


def test_read_one_replaces_a_connection_the_server_dropped_while_it_was_pooled(ctx):
    db.engine.dispose()
    pid = statements.read_one(BACKEND)[0]
    _terminate(settings_for_tests().database_url, [pid])
    assert statements.read_one(BACKEND)[0] != pid


def test_read_one_on_a_connection_dropped_under_it_fails_as_sqlalchemy_fails_and_it_is_not_used_again(ctx):
    db.engine.dispose()  # one connection in the pool, so the statement below runs on the one whose pid is read
    pid = statements.read_one(BACKEND)[0]
    suicide = select(func.pg_terminate_backend(func.pg_backend_pid())).where(
        literal_column("'secret-hash'") != bindparam("k"))
    with pytest.raises(OperationalError) as failure:
        statements.read_one(suicide, k="another-secret")
    assert "SQL parameters hidden" in str(failure.value) and "another-secret" not in str(failure.value)
    assert db.engine.pool.checkedout() == 0
    assert statements.read_one(BACKEND)[0] != pid
