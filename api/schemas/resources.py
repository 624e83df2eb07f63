"""How each resource looks on the wire (v2.3 field names and order)."""
from api.http import when


def _username(user):
    return user.username if user is not None else None


def _audited(obj, **fields):
    return {"uuid": str(obj.uuid), "app": obj.app.id, "owner": _username(obj.owner), **fields,
            "created": when(obj.created), "updated": when(obj.updated)}


def dump_app(app):
    return {"uuid": str(app.uuid), "id": app.id, "owner": app.owner.username, "structure": app.structure,
            "created": when(app.created), "updated": when(app.updated)}


def dump_config(config, release=None):
    values = dict(config.values)
    values["DEIS_APP"] = config.app.id
    if release is not None:
        values["DEIS_RELEASE"] = f"v{release.version}"
    return _audited(config, values=values, memory=config.memory, cpu=config.cpu, tags=config.tags,
                    registry=config.registry, healthcheck=config.healthcheck)


def dump_build(build):
    return _audited(build, image=build.image, sha=build.sha, procfile=build.procfile,
                    dockerfile=build.dockerfile)


def dump_release(release):
    return _audited(release, version=release.version,
                    build=str(release.build_uuid) if release.build_uuid else None,
                    config=str(release.config_uuid), summary=release.summary, failed=release.failed,
                    state=release.state, exception=release.exception)


def dump_domain(domain):
    return {"app": domain.app.id, "owner": _username(domain.owner), "domain": domain.domain,
            "created": when(domain.created), "updated": when(domain.updated)}


def dump_settings(settings):
    return _audited(settings, maintenance=settings.maintenance, routable=settings.routable,
                    whitelist=list(settings.whitelist), autoscale=settings.autoscale, label=settings.label)


def dump_tls(tls):
    return _audited(tls, https_enforced=tls.https_enforced)


def dump_key(key):
    return {"uuid": str(key.uuid), "id": key.id, "owner": key.owner.username, "public": key.public,
            "fingerprint": key.fingerprint, "created": when(key.created), "updated": when(key.updated)}


def dump_certificate(cert):
    return {"id": cert.id, "name": cert.name, "owner": _username(cert.owner), "common_name": cert.common_name,
            "san": list(cert.san), "domains": sorted(d.domain for d in cert.domains),
            "fingerprint": cert.fingerprint, "issuer": cert.issuer, "subject": cert.subject,
            "starts": when(cert.starts), "expires": when(cert.expires), "created": when(cert.created),
            "updated": when(cert.updated), "problem": cert.problem}
