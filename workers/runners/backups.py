"""Taking the database's backups and listing them for the API (pgBackRest runs on this worker's machine, as
the cluster's owner)."""
import dataclasses
import logging
from pathlib import Path

from core.backup_states import BackupStates
from core.backups import BackupError, BackupInProgress, Backups, BackupSettings
from core.services import backups
from workers import metrics

log = logging.getLogger("pier.backups")
ROOT = Path(__file__).resolve().parents[2]
LIST_IO_TIMEOUT = 3  # a store that is down is reported within about 12 s (pgBackRest tries 4 times)


def _backups(settings, io_timeout=None):
    kwargs = {"io_timeout": io_timeout} if io_timeout else {}
    backup = BackupSettings.from_settings(settings)
    # a relative config is the project's (make run's var/), whatever folder this worker runs in
    backup = dataclasses.replace(backup, config=str(ROOT / backup.config))
    return Backups(backup, redact=(settings.s3_secret_key,), **kwargs)


def take(operation, settings):
    """The operation's backup; pgBackRest expires old ones by retention after it. Another backup in progress
    (pgBackRest's lock) is not a failure: this one is skipped."""
    kind = operation.params.get("type", "full")
    try:
        taken = _backups(settings).take(kind)
    except BackupInProgress as exc:
        log.warning("backup skipped: %s", exc)
        return {"skipped": str(exc)}
    except BackupError as exc:
        log.error("%s backup failed: %s", kind, exc)
        raise
    metrics.backup_ended(taken.end.timestamp())
    observe(settings)
    return {"backup": taken.as_dict()}


def observe(settings):
    """Lists the repository's backups into Redis, for `GET /v2/backups`; a repository that cannot be listed
    is recorded as such (the API shows why)."""
    states = BackupStates(settings.redis_url)
    try:
        found = _backups(settings, LIST_IO_TIMEOUT).list()
    except BackupError as exc:
        states.write([], error=str(exc))
        return None
    states.write([backup.as_dict() for backup in found])
    if found:  # read from the repository, the gauge is right again within a listing after a restart
        metrics.backup_ended(max(backup.end for backup in found).timestamp())
    return found


def scheduled(kind):
    """Beat's entry point: a backup as a platform operation (it shows in the admin API and readiness)."""
    try:
        backups.request(None, kind)
    except Exception as exc:  # noqa: BLE001 - e.g. one is running already; the next schedule tries again
        log.warning("scheduled %s backup not started: %s", kind, exc)
