"""builds:* (deploying a Docker image) and releases:* (history and rollback)."""
import os
import re

import click

from cli import output
from cli.client import CliError, Finished, api_path
from cli.options import app_option, client, command, json_option, limit_option, resolve_app, topic

topic("builds", "deploy a Docker image; list builds")
topic("releases", "the app's release history, and rollback")

PROCFILE_LINE = re.compile(r"([A-Za-z0-9_-]+)\s*:\s*(.*\S)\s*")


def parse_procfile(text, source):
    procfile = {}
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = PROCFILE_LINE.fullmatch(line)
        if not match:
            raise CliError(f"{source} line {number}: expected `type: command`, got {line.strip()[:40]!r}")
        procfile[match.group(1)] = match.group(2)
    return procfile


def _procfile(text, path):
    if text is not None:
        return parse_procfile(text, "--procfile")
    path = path or ("Procfile" if os.path.isfile("Procfile") else None)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return parse_procfile(f.read(), path)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


@command("builds:create")
@click.argument("image")
@app_option
@click.option("-p", "--procfile", "procfile_lines", metavar="'TYPE: COMMAND'", multiple=True,
              help='A process type, e.g. -p "web: ./server" -p "worker: ./worker" (repeatable).')
@click.option("--procfile-path", type=click.Path(dir_okay=False),
              help="A Procfile to read (default: ./Procfile when it exists).")
def create_build(image, app, procfile_lines, procfile_path):
    """Deploy a Docker image (also: pier pull IMAGE).

    This makes a new build and a new release, and deploys it.

    \b
    Example: pier pull deis/example-go:latest -a myapp
    """
    api, app = client(), resolve_app(app)
    body = {"image": image}
    procfile = _procfile("\n".join(procfile_lines) if procfile_lines else None, procfile_path)
    if procfile is not None:
        body["procfile"] = procfile
    with output.progress("Creating build", timed=True):
        api.post(api_path("apps", app, "builds"), body)
    release = api.get(api_path("apps", app, "releases"), params={"limit": 1})["results"][0]
    click.echo(f"{app} v{release['version']}: {release['summary']}")


@command("builds:list")
@app_option
@limit_option
@json_option
def list_builds(app, limit, as_json):
    """List the app's builds, newest first."""
    api, app = client(), resolve_app(app)
    builds, _ = api.list(api_path("apps", app, "builds"), limit)
    if as_json:
        output.echo_json(builds)
        return
    output.heading(f"{app} Builds")
    output.table([(b["uuid"], output.when(b["created"]), b["image"]) for b in builds])


@command("builds:info")
@click.argument("build")
@app_option
@json_option
def build_info(build, app, as_json):
    """Show one build by its uuid."""
    api, app = client(), resolve_app(app)
    found = api.get(api_path("apps", app, "builds", build), not_found=f"build {build} of {app}")
    if as_json:
        output.echo_json(found)
        return
    output.heading(f"{app} Build {found['uuid']}")
    procfile = "\n".join(f"{kind}: {cmd}" for kind, cmd in sorted(found["procfile"].items()))
    output.table([(f"{k}:", procfile if k == "procfile" else v) for k, v in found.items() if k != "uuid"])


def _version(text):
    match = re.fullmatch(r"v?(\d+)", text)
    if not match:
        raise CliError(f"a release is written v3 or 3, not {text!r}")
    return int(match.group(1))


@command("releases:list")
@app_option
@limit_option
@json_option
def list_releases(app, limit, as_json):
    """List the app's releases, newest first."""
    api, app = client(), resolve_app(app)
    releases, _ = api.list(api_path("apps", app, "releases"), limit)
    if as_json:
        output.echo_json(releases)
        return
    output.heading(f"{app} Releases")
    output.table([(f"v{r['version']}", output.when(r["created"]), r.get("state") or "",
                   r["summary"] + (" (failed)" if r["failed"] else "")) for r in releases])


@command("releases:info")
@click.argument("version")
@app_option
@json_option
def release_info(version, app, as_json):
    """Show one release (v3 or 3)."""
    api, app = client(), resolve_app(app)
    number = _version(version)
    release = api.get(api_path("apps", app, "releases", f"v{number}"), not_found=f"release v{number} of {app}")
    if as_json:
        output.echo_json(release)
        return
    output.heading(f"{app} Release v{number}")
    output.table([(f"{k}:", "" if v is None else v) for k, v in release.items() if k != "version"])


@command("releases:rollback")
@click.argument("version", required=False)
@app_option
def rollback(version, app):
    """Roll back to an older release (default: the previous one).

    This makes a new release with the older release's build and config.
    """
    api, app = client(), resolve_app(app)
    body = {"version": _version(version)} if version else {}
    label = f"Rolling back to v{body['version']}" if version else "Rolling back one release"
    with output.progress(label, timed=True) as step:
        answer = api.post(api_path("apps", app, "releases", "rollback"), body)
        if isinstance(answer, Finished):
            answer = {"version": api.get(api_path("apps", app, "releases"), params={"limit": 1})["results"][0]
                      ["version"]}
        step.suffix = f", v{answer['version']}"
