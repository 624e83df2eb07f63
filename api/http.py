"""Reading request bodies and writing the v2.3 response shapes."""
import functools
import json

from flask import current_app, jsonify, request, url_for
from marshmallow import RAISE
from sqlalchemy import func, literal
from sqlalchemy.dialects.postgresql import aggregate_order_by

from core.errors import BadRequest, ValidationError
from core.extensions import db

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PAGE_SIZE = 100
MAX_OFFSET = 2 ** 31 - 1


def json_body(allow_empty=True):
    """The request's JSON object, or a 400 that says what is wrong with it."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if allow_empty:
            return {}
        raise BadRequest("A JSON object is required in the request body.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"JSON parse error - {exc}") from None
    except RecursionError:
        raise BadRequest("JSON parse error - the document is nested too deeply.") from None
    if not isinstance(body, dict):
        raise BadRequest("Expected a JSON object in the request body.")
    if _has_nul(body):
        raise BadRequest("Strings in the request cannot contain NUL characters (\\u0000).")
    return body


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul_in_url():
    """PostgreSQL text cannot hold NUL, so a %00 in a path or query is refused before any lookup."""
    values = list((request.view_args or {}).values()) + list(request.args.values())
    if any(isinstance(v, str) and "\x00" in v for v in values):
        raise BadRequest("The URL cannot contain NUL characters (%00).")


def load(schema, body=None):
    """Validates a body with a marshmallow schema; unknown fields are errors."""
    body = json_body() if body is None else body
    return schema.load(body, unknown=RAISE)


def when(value):
    return value.strftime(DATETIME_FORMAT) if value is not None else None


def _int_arg(name, default):
    text = request.args.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValidationError({name: ["A valid integer is required."]}) from None
    if not 0 <= value <= MAX_OFFSET:
        raise ValidationError({name: [f"Ensure this value is between 0 and {MAX_OFFSET}."]})
    return value


def page_window():
    """The page's (limit, offset) of the request's query, DRF's LimitOffsetPagination's."""
    limit = min(_int_arg("limit", PAGE_SIZE) or PAGE_SIZE, 1000)
    return limit, _int_arg("offset", 0)


def _page_links(count, limit, offset):
    def page_url(new_offset):
        args = dict(request.args)
        args.update(limit=limit, offset=new_offset)
        return url_for(request.endpoint, _external=True, **request.view_args, **args)

    return (page_url(offset + limit) if offset + limit < count else None,
            page_url(max(offset - limit, 0)) if offset > 0 else None)


def _count(select):
    return db.session.execute(db.select(func.count()).select_from(select.order_by(None).subquery())).scalar()


def paginate(select, serialize):
    """DRF LimitOffsetPagination over a select of ORM objects, serialized one by one."""
    limit, offset = page_window()
    count = _count(select)
    items = db.session.execute(select.limit(limit).offset(offset)).scalars().unique().all()
    following, previous = _page_links(count, limit, offset)
    return jsonify({"count": count, "next": following, "previous": previous,
                    "results": [serialize(item) for item in items]})


def page_json(count, results, limit, offset):
    """The same envelope around `results`, the page's items as JSON texts joined by commas, built by PostgreSQL
    (`page_statement`): hot lists skip Python objects."""
    following, previous = _page_links(count, limit, offset)
    envelope = json.dumps({"count": count, "next": following, "previous": previous})
    return current_app.response_class(envelope[:-1] + ', "results": [' + (results or "") + "]}",
                                      mimetype="application/json")


@functools.cache
def page_statement(page_select, count_select, order_by):
    """One statement, one row for `page_json`: the count of `count_select` (all rows, without their JSON), and
    the JSON texts of `page_select` (a select of one JSON text column built by `json_build_object`, with bound
    parameters `limit` and `offset`), in the order of its column `order_by`, joined by commas in PostgreSQL.
    Two statements and a row per item cost the controller twice the CPU in psycopg (0.23 → 0.12 ms a page of
    100)."""
    rows = page_select.add_columns(order_by.label("position")).subquery()
    joined = db.select(func.string_agg(rows.c[0], aggregate_order_by(literal(","), rows.c.position)))
    return db.select(count_select.scalar_subquery(), joined.scalar_subquery())


def sql_when(column):
    """A timestamp column formatted by PostgreSQL exactly as `when` formats it in Python."""
    return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')


def created(body):
    response = jsonify(body)
    response.status_code = 201
    return response


def no_content():
    return "", 204
