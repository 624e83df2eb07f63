"""Desired routes, read from the controller's database and the scheduler's published endpoints."""
from core import proxy
from core.extensions import db
from core.models import TLS, App, AppSettings, Certificate, Config, Domain, Release

ROUTABLE_TYPES = ("web", "cmd")


def _latest(model):
    """The newest row of a one-row-per-change model, per app."""
    return {row.app_uuid: row for row in db.session.execute(
        db.select(model).distinct(model.app_uuid).order_by(model.app_uuid, model.created.desc())).scalars()}


def proxy_values():
    """{app uuid: {PIER_PROXY_* key: value}} from the config in force: that of the newest release that did
    not fail, as `GET /v2/apps/{app}/config` shows it. Only those keys leave the database."""
    keys = list(proxy.KEYS)
    rows = db.session.execute(
        db.select(Release.app_uuid, *(Config.values[key].astext for key in keys))
        .join(Config, Release.config_uuid == Config.uuid).where(Release.failed.is_(False))
        .distinct(Release.app_uuid).order_by(Release.app_uuid, Release.version.desc()))
    return {app_uuid: {k: v for k, v in zip(keys, values) if v is not None} for app_uuid, *values in rows}


def attached_certificates():
    """({certificate name: (certificate PEM, key PEM)}, {certificate name: problem stored for it}) of the
    certificates attached to some domain."""
    attached = db.select(Domain.certificate_id).where(Domain.certificate_id.is_not(None))
    rows = db.session.execute(db.select(Certificate.name, Certificate.certificate, Certificate.key,
                                        Certificate.problem).where(Certificate.id.in_(attached))).all()
    return ({name: (certificate, key) for name, certificate, key, _ in rows},
            {name: problem for name, _, _, problem in rows})


def desired_routes(platform_domain, endpoints):
    """endpoints: {app id: {process type: ["ip:port"]}}. Apps with routable=false are left out. A route's
    `problems` name the config values it could not use (their defaults apply)."""
    latest_settings, latest_tls, configured = _latest(AppSettings), _latest(TLS), proxy_values()
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
        tuning, problems = proxy.proxy_settings(configured.get(app_uuid, {}))
        routes.append({
            "app": app_id,
            "hosts": [f"{app_id}.{platform_domain}" if h == app_id else h for h in hosts.get(app_uuid, [])],
            "certificates": certificates.get(app_uuid, {}),
            "https_enforced": bool(tls and tls.https_enforced),
            "endpoints": [e for t in ROUTABLE_TYPES for e in served.get(t, [])],
            "maintenance": bool(settings and settings.maintenance),
            "whitelist": list(settings.whitelist) if settings else [],
            "proxy": tuning,
            "problems": [f"{app_id}: {problem}" for problem in problems],
        })
    return routes
