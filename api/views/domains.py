from flask import g
from marshmallow import Schema, fields

from api.auth import app_for_request
from api.blueprint import v2
from api.http import created, load, no_content, paginate
from api.schemas.resources import dump_domain
from core import validators
from core.errors import not_found
from core.extensions import db
from core.models import Domain
from core.services import domains


class DomainSchema(Schema):
    domain = fields.String(required=True)


@v2.route("/apps/<app_id>/domains", methods=["GET"])
def list_domains(app_id):
    app = app_for_request(app_id)
    return paginate(db.select(Domain).where(Domain.app_uuid == app.uuid).order_by(Domain.domain), dump_domain)


@v2.route("/apps/<app_id>/domains", methods=["POST"])
def add_domain(app_id):
    app = app_for_request(app_id)
    return created(dump_domain(domains.add(app, g.user, load(DomainSchema())["domain"])))


@v2.route("/apps/<app_id>/domains/<path:name>", methods=["DELETE"])
def remove_domain(app_id, name):
    app = app_for_request(app_id)
    try:
        name = validators.hostname(name)
    except ValueError:
        raise not_found("Domain") from None
    domain = db.session.execute(
        db.select(Domain).where(Domain.app_uuid == app.uuid, Domain.domain == name)).scalar_one_or_none()
    if domain is None:
        raise not_found("Domain")
    domains.remove(domain)
    return no_content()
