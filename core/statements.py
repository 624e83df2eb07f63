"""The hottest reads' statements, run on the session's own psycopg connection instead of through SQLAlchemy's
execution layer.

Executing a Core statement costs about 80 µs of CPU in SQLAlchemy (its compiled-cache lookup, execution context
and result processing), as much as psycopg's own work for a one-row select (bench/api.py, py-spy): on the
controller's hot reads, two or three statements a request, that was a sixth of the request. The statements
given here are built with Core as usual, compiled once per dialect to their SQL text, and run through the
session's connection (the same transaction, or the same autocommit, and the same pool). Errors come out as
SQLAlchemy's (a connection the server dropped is invalidated, as SQLAlchemy does), so callers see no difference
but the rows: psycopg's named tuples, whose values are the driver's (no result processors run, so statements
given here must not need them: `compiled` refuses those that do).
"""
import functools

from psycopg import Error as DriverError
from psycopg.rows import namedtuple_row
from sqlalchemy.exc import DBAPIError

from core.extensions import db


@functools.cache
def compiled(statement, dialect):
    """(SQL text, the statement's own parameter values, the names the caller gives) of a statement built once
    (it is cached by identity)."""
    sql = statement.compile(dialect=dialect)
    if sql._bind_processors or any(column[3].result_processor(dialect, None) for column in sql._result_columns):
        raise ValueError("this statement needs SQLAlchemy's type processing; execute it with SQLAlchemy")
    given = frozenset(name for name, bind in sql.binds.items() if bind.required)
    return sql.string, {name: value for name, value in sql.params.items() if name not in given}, given


def execute(statement, params):
    """A psycopg cursor with the statement's rows (named tuples), run on the session's connection."""
    connection = db.session.connection()
    return _run(connection.connection.driver_connection, connection.dialect, connection.invalidate, statement,
                params)


def _run(driver, dialect, invalidate, statement, params):
    sql, constants, given = compiled(statement, dialect)
    if given != params.keys():
        raise TypeError(f"the statement's parameters are {sorted(given)}, not {sorted(params)}")
    arguments = {**constants, **params}
    try:
        cursor = driver.cursor(row_factory=namedtuple_row)
        return cursor.execute(sql, arguments)
    except DriverError as error:
        if driver.broken or driver.closed:
            invalidate(error)
        # parameters hidden: the token's statement carries a token's hash
        raise DBAPIError.instance(sql, arguments, error, DriverError, hide_parameters=True) from error


def read_one(statement, **params):
    """one_or_none for a request that reads with this one statement: on a pooled connection of its own, in
    autocommit (no BEGIN, no ROLLBACK), given back to the pool at once. The session's connection, checked out
    and closed at the request's end, cost a hot read an eighth of its CPU. Inside a transaction of the session
    (a test's app context), the statement runs in it instead, and sees what it wrote."""
    if db.session().in_transaction():
        return one_or_none(statement, **params)
    pooled = db.engine.raw_connection()  # the pool's checkout: its liveness check (core/pool.py) runs
    try:
        driver = pooled.driver_connection
        driver.autocommit = True
        try:
            return _run(driver, db.engine.dialect, pooled.invalidate, statement, params).fetchone()
        finally:
            if not (driver.broken or driver.closed):
                driver.autocommit = False  # as the pool's other users expect it
    finally:
        pooled.close()


def one_or_none(statement, **params):
    return execute(statement, params).fetchone()
