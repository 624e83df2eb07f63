"""Certificates: platform-wide, owned by the uploader, attached to domains by name."""
from flask import g, jsonify
from marshmallow import Schema, fields

from api.blueprint import v2
from api.http import created, json_body, load, no_content, paginate
from api.schemas.resources import dump_certificate
from core import validators
from core.access import can_use_app
from core.errors import Forbidden, ValidationError, not_found
from core.extensions import db
from core.models import Certificate, Domain
from core.services import certificates as cert_service


class CertificateSchema(Schema):
    name = fields.String(required=True)
    certificate = fields.String(required=True)
    key = fields.String(required=True)


def _visible(select):
    return select if g.caller.is_superuser else select.where(Certificate.owner_id == g.caller.id)


def _find(name):
    cert = db.session.execute(_visible(db.select(Certificate).where(Certificate.name == name))).scalar_one_or_none()
    if cert is None:
        raise not_found("Certificate")
    return cert


def _domain_for_user(name):
    try:
        name = validators.hostname(name)
    except ValueError:
        raise not_found("Domain") from None
    domain = db.session.execute(db.select(Domain).where(Domain.domain == name)).scalar_one_or_none()
    if domain is None:
        raise not_found("Domain")
    if not can_use_app(domain.app, g.caller):
        raise Forbidden(f"You do not have permission to use the domain {name}.")
    return domain


@v2.route("/certs", methods=["GET"])
def list_certs():
    return paginate(_visible(db.select(Certificate).order_by(Certificate.name)), dump_certificate)


@v2.route("/certs", methods=["POST"])
def add_cert():
    data = load(CertificateSchema())
    return created(dump_certificate(cert_service.add(g.user, data["name"], data["certificate"], data["key"])))


@v2.route("/certs/<name>", methods=["GET"])
def cert_info(name):
    return jsonify(dump_certificate(_find(name)))


@v2.route("/certs/<name>", methods=["DELETE"])
def remove_cert(name):
    cert_service.remove(_find(name))
    return no_content()


@v2.route("/certs/<name>/domain/", methods=["POST"])
@v2.route("/certs/<name>/domain/<path:domain_name>", methods=["POST"])
def attach_cert(name, domain_name=None):
    cert = _find(name)
    body = json_body()
    domain_name = body.get("domain", domain_name)
    if not isinstance(domain_name, str) or not domain_name:
        raise ValidationError({"domain": ["This field is required."]})
    cert_service.attach(cert, _domain_for_user(domain_name))
    return created(dump_certificate(cert))


@v2.route("/certs/<name>/domain/<path:domain_name>", methods=["DELETE"])
def detach_cert(name, domain_name):
    cert = _find(name)
    domain = _domain_for_user(domain_name)
    if domain.certificate_id != cert.id:
        raise not_found("Domain")
    cert_service.detach(domain)
    return no_content()
