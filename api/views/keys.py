from flask import g, jsonify
from marshmallow import Schema, ValidationError, fields, validates

from api import errors, sshkeys, validators
from api.errors import not_found
from api.extensions import db
from api.http import created, load, no_content, paginate
from api.models import Key
from api.schemas.resources import dump_key
from api.views import v2


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
    key = db.session.execute(db.select(Key).where(Key.owner_id == g.user.id, Key.id == key_id)).scalar_one_or_none()
    if key is None:
        raise not_found("Key")
    return key


@v2.route("/keys", methods=["GET"])
def list_keys():
    return paginate(db.select(Key).where(Key.owner_id == g.user.id).order_by(Key.id), dump_key)


@v2.route("/keys", methods=["POST"])
def add_key():
    data = load(KeySchema())
    try:
        public, fingerprint, md5 = sshkeys.parse(data["public"])
    except ValueError as exc:
        raise errors.ValidationError({"public": [str(exc)]}) from None
    if db.session.execute(db.select(Key.uuid).where(Key.fingerprint == fingerprint)).first():
        raise errors.ValidationError({"public": ["Key with this public already exists."]})
    if db.session.execute(db.select(Key.uuid).where(Key.owner_id == g.user.id, Key.id == data["id"])).first():
        raise errors.ValidationError({"id": [f"You already have a key named {data['id']}."]})
    key = Key(id=data["id"], owner=g.user, public=public, fingerprint=fingerprint, fingerprint_md5=md5)
    db.session.add(key)
    db.session.commit()
    return created(dump_key(key))


@v2.route("/keys/<key_id>", methods=["GET"])
def key_info(key_id):
    return jsonify(dump_key(_own_key(key_id)))


@v2.route("/keys/<key_id>", methods=["DELETE"])
def remove_key(key_id):
    db.session.delete(_own_key(key_id))
    db.session.commit()
    return no_content()
