"""Which image references an app may deploy. Images in Pier's own registry belong to their app, and an image
id names whatever happens to be in the engine (another tenant's build, too): neither may cross apps."""
import ipaddress
import re

IMAGE_ID = re.compile(r"(sha256:)?[0-9a-f]{4,64}")
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def _host_port(text):
    """('127.0.0.1', '5000') from '127.0.0.1:5000' or '[::1]:5000'; port '' when none is given."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host.lower(), rest.lstrip(":")
    host, _, port = text.partition(":")
    return host.lower(), port


def _loopback(host):
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def registry_and_repository(reference):
    """('127.0.0.1:5000', 'app') of '127.0.0.1:5000/app:tag'; registry '' for Docker Hub's short names."""
    name = reference.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "", name
    return registry, path.rsplit(":", 1)[0] if ":" in path.rsplit("/", 1)[-1] else path


def is_platform_registry(registry, platform):
    """Whether `registry` names Pier's own registry (any loopback spelling of a loopback one)."""
    if not registry:
        return False
    host, port = _host_port(registry)
    own_host, own_port = _host_port(platform)
    if port != own_port:
        return False
    return host == own_host or (_loopback(host) and _loopback(own_host))


def check(reference, app_id, platform_registry):
    """The reference, or ValueError saying why the app may not deploy it."""
    if IMAGE_ID.fullmatch(reference):
        raise ValueError("Pier does not deploy images by id: an id names whatever is in the engine, other apps' "
                         "images too. Give the image's name, e.g. registry.example.com/team/web:1.2.")
    registry, repository = registry_and_repository(reference)
    if is_platform_registry(registry, platform_registry) and repository != app_id:
        raise ValueError(f"Images in Pier's registry belong to their app: {app_id} may deploy "
                         f"{platform_registry}/{app_id}:<tag> only.")
    return reference


def own_tag(reference, app_id, platform_registry):
    """The tag (or digest) of `reference` when it names an image of the app's own repository in Pier's
    registry: 'git-1a2b3c4d' of '127.0.0.1:5000/web:git-1a2b3c4d'. None for any other image, which garbage
    collection leaves alone (it is not Pier's to delete)."""
    registry, repository = registry_and_repository(reference)
    if not is_platform_registry(registry, platform_registry) or repository != app_id:
        return None
    name, at, digest = reference.partition("@")
    if at:
        return digest
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"
