"""Pure functions from database rows to the plain data a scheduler needs."""

DEFAULT_BUILDPACK_PORT = "5000"


def release_spec(app, release):
    config, build = release.config, release.build
    env = dict(config.values)
    env.update(DEIS_APP=app.id, DEIS_RELEASE=f"v{release.version}", SOURCE_VERSION=build.sha if build else "")
    return {
        "app": app.id,
        "app_uuid": str(app.uuid),
        "version": release.version,
        "image": build.image if build else None,
        "procfile": dict(build.procfile) if build else {},
        "dockerfile": bool(build.dockerfile) if build else False,
        "env": env,
        "memory": dict(config.memory),
        "cpu": dict(config.cpu),
        "tags": dict(config.tags),
        "registry": dict(config.registry),
        "healthcheck": dict(config.healthcheck),
    }
