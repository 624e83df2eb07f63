"""Desired routes, read from the controller's database and the scheduler's published endpoints."""
from api.extensions import db
from api.models import App, AppSettings, Domain

ROUTABLE_TYPES = ("web", "cmd")


def desired_routes(platform_domain, endpoints):
    """endpoints: {app id: {process type: ["ip:port"]}}. Apps with routable=false are left out."""
    latest_settings = {
        row.app_uuid: row for row in db.session.execute(
            db.select(AppSettings).distinct(AppSettings.app_uuid)
            .order_by(AppSettings.app_uuid, AppSettings.created.desc())).scalars()}
    hosts = {}
    for app_uuid, name in db.session.execute(db.select(Domain.app_uuid, Domain.domain)):
        hosts.setdefault(app_uuid, []).append(name)
    routes = []
    for app_uuid, app_id in db.session.execute(db.select(App.uuid, App.id).order_by(App.id)):
        settings = latest_settings.get(app_uuid)
        if settings is not None and not settings.routable:
            continue
        served = endpoints.get(app_id, {})
        routes.append({
            "app": app_id,
            "hosts": [f"{app_id}.{platform_domain}" if h == app_id else h for h in hosts.get(app_uuid, [])],
            "endpoints": [e for t in ROUTABLE_TYPES for e in served.get(t, [])],
            "maintenance": bool(settings and settings.maintenance),
            "whitelist": list(settings.whitelist) if settings else [],
        })
    return routes
