"""domains:* (an app's hostnames) and certs:* (TLS certificates attached to domains)."""
import click

from cli import output
from cli.client import CliError, api_path
from cli.options import app_option, client, command, json_option, limit_option, resolve_app, topic

topic("domains", "the hostnames an app answers to")
topic("certs", "TLS certificates, attached to domains")


@command("domains:list")
@app_option
@limit_option
@json_option
def list_domains(app, limit, as_json):
    """List the app's domains."""
    api, app = client(), resolve_app(app)
    domains, _ = api.list(api_path("apps", app, "domains"), limit)
    if as_json:
        output.echo_json(domains)
        return
    output.heading(f"{app} Domains")
    for domain in domains:
        click.echo(domain["domain"])


@command("domains:add")
@click.argument("domain")
@app_option
def add_domain(domain, app):
    """Add a domain (wildcards like *.example.com are allowed)."""
    api, app = client(), resolve_app(app)
    with output.progress(f"Adding {domain} to {app}"):
        api.post(api_path("apps", app, "domains"), {"domain": domain})


@command("domains:remove")
@click.argument("domain")
@app_option
def remove_domain(domain, app):
    """Remove a domain."""
    api, app = client(), resolve_app(app)
    with output.progress(f"Removing {domain} from {app}"):
        api.delete(api_path("apps", app, "domains", domain, slash=False), not_found=f"domain {domain} of {app}")


def _read(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise CliError(f"cannot read the {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"the {what} {path} is not PEM text") from None


@command("certs:list")
@limit_option
@json_option
def list_certs(limit, as_json):
    """List your certificates (administrators see all)."""
    certs, _ = client().list(api_path("certs"), limit)
    if as_json:
        output.echo_json(certs)
        return
    output.heading("Certificates")
    output.table([("Name", "Common Name", "Expires", "Domains")] +
                 [(c["name"], c["common_name"], output.when(c["expires"]), ",".join(c["domains"]) or "-")
                  for c in certs])


@command("certs:add")
@click.argument("name")
@click.argument("certificate", type=click.Path(dir_okay=False))
@click.argument("key", type=click.Path(dir_okay=False))
def add_cert(name, certificate, key):
    """Upload a certificate NAME from PEM files CERTIFICATE and KEY."""
    api = client()
    body = {"name": name, "certificate": _read(certificate, "certificate"), "key": _read(key, "key")}
    with output.progress(f"Adding certificate {name}"):
        api.post(api_path("certs"), body)


@command("certs:remove")
@click.argument("name")
def remove_cert(name):
    """Delete a certificate."""
    api = client()
    with output.progress(f"Removing certificate {name}"):
        api.delete(api_path("certs", name), not_found=f"certificate {name}")


@command("certs:info")
@click.argument("name")
@json_option
def cert_info(name, as_json):
    """Show a certificate's names, issuer and dates."""
    cert = client().get(api_path("certs", name), not_found=f"certificate {name}")
    if as_json:
        output.echo_json(cert)
        return
    output.heading(f"{name} Certificate")
    rows = [("Common Name:", cert["common_name"]), ("SAN:", ", ".join(cert["san"])),
            ("Domains:", ", ".join(cert["domains"]) or "(none)"), ("Fingerprint:", cert["fingerprint"]),
            ("Issuer:", cert["issuer"]), ("Subject:", cert["subject"]), ("Starts:", output.when(cert["starts"])),
            ("Expires:", output.when(cert["expires"])), ("Owner:", cert["owner"])]
    if cert.get("problem"):  # Pier: why the router leaves its domains out
        rows.append(("Problem:", cert["problem"]))
    output.table(rows)


@command("certs:attach")
@click.argument("name")
@click.argument("domain")
def attach_cert(name, domain):
    """Serve DOMAIN (already added to an app) with certificate NAME."""
    api = client()
    with output.progress(f"Attaching certificate {name} to {domain}"):
        api.post(api_path("certs", name, "domain"), {"domain": domain})


@command("certs:detach")
@click.argument("name")
@click.argument("domain")
def detach_cert(name, domain):
    """Stop serving DOMAIN with certificate NAME."""
    api = client()
    with output.progress(f"Detaching certificate {name} from {domain}"):
        api.delete(api_path("certs", name, "domain", domain, slash=False),
                   not_found=f"certificate {name} on domain {domain}")
