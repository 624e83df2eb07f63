from flask import g, jsonify
from marshmallow import Schema, ValidationError, fields, validates

from api.blueprint import v2
from api.http import created, load, no_content, paginate
from api.schemas.resources import dump_key
from core import validators
from core.errors import not_found
from core.extensions import db
from core.models import Key
from core.services import keys


class KeySchema(Schema):
    id = fields.String(required=True)
    public = fields.String(required=True)

    @validates("id")
    def check_id(self, value, **kwargs):
        try:
            validators.key_id(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _own_key(key_id):
    key = db.session.execute(db.select(Key).where(Key.owner_id == g.caller.id, Key.id == key_id)).scalar_one_or_none()
    if key is None:
        raise not_found("Key")
    return key


@v2.route("/keys", methods=["GET"])
def list_keys():
    return paginate(db.select(Key).where(Key.owner_id == g.caller.id).order_by(Key.id), dump_key)


@v2.route("/keys", methods=["POST"])
def add_key():
    data = load(KeySchema())
    return created(dump_key(keys.add(g.user, data["id"], data["public"])))


@v2.route("/keys/<key_id>", methods=["GET"])
def key_info(key_id):
    return jsonify(dump_key(_own_key(key_id)))


@v2.route("/keys/<key_id>", methods=["DELETE"])
def remove_key(key_id):
    keys.remove(_own_key(key_id))
    return no_content()
