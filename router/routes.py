"""Desired routes, read from the controller's database and the scheduler's published endpoints."""
from api.extensions import db
from api.models import TLS, App, AppSettings, Certificate, Domain

ROUTABLE_TYPES = ("web", "cmd")


def _latest(model):
    """The newest row of a one-row-per-change model, per app."""
    return {row.app_uuid: row for row in db.session.execute(
        db.select(model).distinct(model.app_uuid).order_by(model.app_uuid, model.created.desc())).scalars()}


def certificate_files():
    """{certificate name: (certificate PEM, key PEM)} of the certificates attached to some domain."""
    attached = db.select(Domain.certificate_id).where(Domain.certificate_id.is_not(None))
    rows = db.session.execute(db.select(Certificate.name, Certificate.certificate, Certificate.key)
                              .where(Certificate.id.in_(attached)))
    return {name: (certificate, key) for name, certificate, key in rows}


def desired_routes(platform_domain, endpoints):
    """endpoints: {app id: {process type: ["ip:port"]}}. Apps with routable=false are left out."""
    latest_settings, latest_tls = _latest(AppSettings), _latest(TLS)
    hosts, certificates = {}, {}
    rows = db.session.execute(db.select(Domain.app_uuid, Domain.domain, Certificate.name)
                              .outerjoin(Certificate, Domain.certificate_id == Certificate.id))
    for app_uuid, name, certificate in rows:
        hosts.setdefault(app_uuid, []).append(name)
        if certificate:
            certificates.setdefault(app_uuid, {})[name] = certificate
    routes = []
    for app_uuid, app_id in db.session.execute(db.select(App.uuid, App.id).order_by(App.id)):
        settings = latest_settings.get(app_uuid)
        if settings is not None and not settings.routable:
            continue
        served = endpoints.get(app_id, {})
        tls = latest_tls.get(app_uuid)
        routes.append({
            "app": app_id,
            "hosts": [f"{app_id}.{platform_domain}" if h == app_id else h for h in hosts.get(app_uuid, [])],
            "certificates": certificates.get(app_uuid, {}),
            "https_enforced": bool(tls and tls.https_enforced),
            "endpoints": [e for t in ROUTABLE_TYPES for e in served.get(t, [])],
            "maintenance": bool(settings and settings.maintenance),
            "whitelist": list(settings.whitelist) if settings else [],
        })
    return routes
