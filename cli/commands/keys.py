"""keys:* — the SSH public keys `git push` authenticates with."""
import os
import re

import click

from cli import output
from cli.client import CliError, api_path
from cli.options import client, command, json_option, limit_option, topic

topic("keys", "SSH keys for git push")

DEFAULT_KEYS = ("id_ed25519.pub", "id_rsa.pub")
KEY_ID = re.compile(r"[A-Za-z0-9_.@+-]{1,128}")


def default_key_path():
    folder = os.path.join(os.path.expanduser("~"), ".ssh")
    for name in DEFAULT_KEYS:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise CliError(f"no public key found ({' or '.join(os.path.join('~/.ssh', n) for n in DEFAULT_KEYS)}); "
                   "pass the path of one, or make one with ssh-keygen -t ed25519")


def key_name(public, path):
    """The key's comment (e.g. ada@laptop) when it is a valid id, else the file's name without .pub."""
    words = public.split()
    comment = words[2] if len(words) > 2 else ""
    if KEY_ID.fullmatch(comment):
        return comment
    stem = os.path.basename(path)
    stem = stem[:-4] if stem.endswith(".pub") else stem
    cleaned = re.sub(r"[^A-Za-z0-9_.@+-]", "-", stem)[:128]
    return cleaned or "key"


@command("keys:list")
@limit_option
@json_option
def list_keys(limit, as_json):
    """List your SSH keys."""
    api = client()
    keys, _ = api.list(api_path("keys"), limit)
    if as_json:
        output.echo_json(keys)
        return
    output.heading(f"{api.username} Keys")
    output.table([(k["id"], k["fingerprint"], _abbreviated(k["public"])) for k in keys])


def _abbreviated(public):
    words = public.split()
    if len(words) < 2:
        return public
    body = words[1]
    return f"{words[0]} {body[:10]}...{body[-10:]}" if len(body) > 24 else f"{words[0]} {body}"


@command("keys:add")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--name", "key_id", help="The key's id (default: its comment, e.g. ada@laptop).")
def add_key(path, key_id):
    """Add an SSH public key.

    PATH defaults to ~/.ssh/id_ed25519.pub, else ~/.ssh/id_rsa.pub.
    """
    api = client()
    path = path or default_key_path()
    try:
        with open(path, encoding="utf-8") as f:
            public = f.read().strip()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path} is not an OpenSSH public key") from None
    if "PRIVATE KEY" in public:
        raise CliError(f"{path} is a private key; pass the .pub file next to it")
    key_id = key_id or key_name(public, path)
    with output.progress(f"Uploading {os.path.basename(path)} as {key_id}"):
        api.post(api_path("keys"), {"id": key_id, "public": public})


@command("keys:remove")
@click.argument("key_id")
def remove_key(key_id):
    """Remove an SSH key by its id."""
    api = client()
    with output.progress(f"Removing {key_id} SSH key"):
        api.delete(api_path("keys", key_id), not_found=f"key {key_id}")
