"""pgBackRest's configuration as a pure function of Pier's storage and backup settings and the cluster.

The repository is the `database/` folder of Pier's object storage: `<PIER_STORAGE_PATH>/database` for the
filesystem store, `/database` in the bucket for S3. pgBackRest's own files (log, lock, spool, a copy of
the S3 CA) sit beside its configuration, in a folder only the cluster's owner may read.
"""
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.backups import STANZA, BackupError

REPOSITORY_FOLDER = "database"
CA_COPY = "s3-ca.pem"
# archive_command is run by a shell: the configuration's path goes into it unquoted, so it must be plain.
PLAIN_PATH = re.compile(r"/[A-Za-z0-9/._+-]*")


@dataclass(frozen=True)
class Cluster:
    """The PostgreSQL cluster pgBackRest backs up, as pgBackRest reaches it (local socket, peer auth)."""
    data_directory: str
    port: int
    socket_directory: str = "/var/run/postgresql"


@dataclass(frozen=True)
class S3Endpoint:
    host: str
    port: int


def folder(backup):
    return os.path.dirname(os.path.abspath(backup.config))


def repository_path(storage):
    """Where the repository is: a local folder, or the path inside the bucket."""
    if storage.storage == "s3":
        return f"/{REPOSITORY_FOLDER}"
    return os.path.join(os.path.abspath(storage.storage_path), REPOSITORY_FOLDER)


def config_path(backup):
    path = os.path.abspath(backup.config)
    if not PLAIN_PATH.fullmatch(path):
        raise BackupError(f"PIER_BACKUP_CONFIG {path!r} must be a plain path (letters, digits and /._+-): "
                          "PostgreSQL's archive_command runs it through a shell")
    return path


def s3_endpoint(storage):
    """PIER_S3_ENDPOINT as pgBackRest takes it: a host name and a port, over HTTPS only."""
    if not storage.s3_endpoint:
        return S3Endpoint(f"s3.{storage.s3_region}.amazonaws.com", 443)
    url = urlsplit(storage.s3_endpoint)
    if url.scheme != "https":
        raise BackupError(f"PIER_S3_ENDPOINT is {storage.s3_endpoint!r}, but pgBackRest's S3 client speaks "
                          "HTTPS only: serve the store over TLS (e.g. nginx in front of MinIO, see "
                          "docs/backups.md) and give its address as https://host:port")
    if not url.hostname or url.path not in ("", "/") or url.query or url.username:
        raise BackupError(f"PIER_S3_ENDPOINT {storage.s3_endpoint!r} must be https://host[:port], "
                          "without a path, query or credentials")
    return S3Endpoint(url.hostname, url.port or 443)


def render(storage, backup, cluster):
    """The text of pgbackrest.conf. `storage` carries Pier's PIER_STORAGE* and PIER_S3_* settings (the fields
    of core.settings.Settings), `backup` is a BackupSettings. It holds the S3 secret: write it mode 0600."""
    config_path(backup)
    here = folder(backup)
    options = [
        ("log-path", os.path.join(here, "log")),
        ("lock-path", os.path.join(here, "lock")),
        ("spool-path", os.path.join(here, "spool")),
        ("log-level-file", "info"),
        ("compress-type", "lz4"),
        ("start-fast", "y"),
        ("repo1-path", repository_path(storage)),
        ("repo1-retention-full", str(backup.retention_full)),
        ("repo1-retention-diff", str(backup.retention_diff)),
    ]
    if storage.storage == "s3":
        options += s3_options(storage, backup)
    elif storage.storage == "filesystem":
        options.append(("repo1-type", "posix"))
    else:
        raise BackupError(f"PIER_STORAGE is {storage.storage!r}; it must be filesystem or s3")
    stanza = [("pg1-path", os.path.abspath(cluster.data_directory)), ("pg1-port", str(cluster.port)),
              ("pg1-socket-path", cluster.socket_directory)]
    for name, value in options + stanza:
        if "\n" in value or "\r" in value or value != value.strip():
            raise BackupError(f"the setting behind pgBackRest's {name} holds a line break or surrounding "
                              "spaces; fix it in var/pier.env")
    lines = ["# Written by scripts/database from Pier's settings (var/pier.env): edits are overwritten.",
             "[global]", *(f"{name}={value}" for name, value in options), "", f"[{STANZA}]",
             *(f"{name}={value}" for name, value in stanza)]
    return "\n".join(lines) + "\n"


def s3_options(storage, backup):
    if not storage.s3_bucket:
        raise BackupError("PIER_S3_BUCKET is needed when PIER_STORAGE is s3")
    endpoint = s3_endpoint(storage)
    options = [("repo1-type", "s3"), ("repo1-s3-bucket", storage.s3_bucket),
               ("repo1-s3-endpoint", endpoint.host), ("repo1-storage-port", str(endpoint.port)),
               ("repo1-s3-region", storage.s3_region),
               ("repo1-s3-uri-style", "path" if storage.s3_path_style else "host")]
    if storage.s3_access_key:
        options += [("repo1-s3-key", storage.s3_access_key), ("repo1-s3-key-secret", storage.s3_secret_key)]
    else:  # like boto3's own lookup on a cloud machine: the instance's role
        options.append(("repo1-s3-key-type", "auto"))
    if backup.s3_ca_file:
        # pgBackRest runs as postgres, which may not read the operator's CA where it is: it reads a copy.
        options.append(("repo1-storage-ca-file", os.path.join(folder(backup), CA_COPY)))
    return options


def archiving(backup):
    """The PostgreSQL settings that archive every WAL segment into the repository (a conf.d include)."""
    command = f"pgbackrest --config={config_path(backup)} --stanza={STANZA} archive-push %p"
    return "\n".join([
        "# Written by scripts/database: WAL goes to Pier's object storage through pgBackRest. "
        "Edits are overwritten.",
        "wal_level = replica",
        "archive_mode = on",
        f"archive_command = '{command}'",
        # A commit reaches the store within a minute: the switch is checked on whole seconds and the
        # upload takes a moment, so the timeout leaves a few seconds for both.
        f"archive_timeout = {backup.archive_timeout}",
    ]) + "\n"
