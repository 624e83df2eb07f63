"""From database rows to the data the scheduler port takes."""
from core.extensions import db
from core.models import Release
from workers.scheduler.spec import ReleaseSpec


def release_spec(app, release):
    config, build = release.config, release.build
    env = {key: str(value) for key, value in config.values.items()}
    env.update(DEIS_APP=app.id, DEIS_RELEASE=f"v{release.version}", SOURCE_VERSION=build.sha if build else "")
    return ReleaseSpec(
        app=app.id,
        app_uuid=str(app.uuid),
        version=release.version,
        image=build.image if build else "",
        procfile=dict(build.procfile) if build else {},
        env=env,
        memory=dict(config.memory),
        cpu=dict(config.cpu),
        tags=dict(config.tags),
        registry=dict(config.registry),
        healthcheck=dict(config.healthcheck),
        dockerfile=bool(build.dockerfile) if build else False,
    )


def running_release(app):
    """The release the app runs: its newest deployed one that has a build, or None."""
    return db.session.execute(
        db.select(Release).where(Release.app_uuid == app.uuid, Release.state == "deployed",
                                 Release.build_uuid.is_not(None)).order_by(Release.version.desc()).limit(1)
    ).scalar_one_or_none()
