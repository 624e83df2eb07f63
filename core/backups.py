"""The database's backups, through pgBackRest: list them, take one, expire old ones, check the repository.

WAL and base backups live in a pgBackRest repository in Pier's object storage (`database/` in the storage
folder or the S3 bucket). scripts/database writes pgBackRest's configuration, turns archiving on and
restores an empty database from the repository; this module is what the rest of the platform calls. It
imports neither Flask nor SQLAlchemy, runs pgBackRest as the cluster's owner, and turns every failure into
a BackupError whose text says what to fix and never holds a credential.
"""
import json
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone

STANZA = "pier"
KINDS = ("full", "diff", "incr")
# pgBackRest tries a connection four times, each up to io-timeout (60 s unless told): four minutes before a
# store that is down is reported. Listing uses 10 s, so `info` names an unreachable store within 40 s.
LIST_IO_TIMEOUT = 10

# The repository status codes of `pgbackrest info --output=json`.
OK, NO_STANZA, NO_BACKUPS = 0, 1, 2
READABLE = (OK, NO_STANZA, NO_BACKUPS)  # 3 missing stanza data, 4 other cipher, 5 other database, 99 failed
LOCK_ERROR = "[050]"  # pgBackRest's LockAcquireError: another backup, expire or stanza command holds the lock


class BackupError(Exception):
    """pgBackRest failed or refused; the text names the cause and what to do, never a credential."""


class BackupInProgress(BackupError):
    """Another backup (or expire) of the same database is running."""


def _int(text):
    return int(text)


def _cron(text):
    cron_fields(text)
    return text


@dataclass(frozen=True)
class BackupSettings:
    config: str = "var/database/pgbackrest.conf"
    user: str = "postgres"
    full_schedule: str = "0 3 * * 0"
    diff_schedule: str = "0 3 * * 1-6"
    retention_full: int = 2
    retention_diff: int = 7
    archive_timeout: int = 55
    s3_ca_file: str = ""

    # (environment variable, field, parser), like core.settings.Settings.ENVIRONMENT, into which they fold.
    ENVIRONMENT = (
        ("PIER_BACKUP_CONFIG", "config", str),
        ("PIER_BACKUP_USER", "user", str),
        ("PIER_BACKUP_FULL_SCHEDULE", "full_schedule", _cron),
        ("PIER_BACKUP_DIFF_SCHEDULE", "diff_schedule", _cron),
        ("PIER_BACKUP_RETENTION_FULL", "retention_full", _int),
        ("PIER_BACKUP_RETENTION_DIFF", "retention_diff", _int),
        ("PIER_BACKUP_ARCHIVE_TIMEOUT", "archive_timeout", _int),
        ("PIER_BACKUP_S3_CA_FILE", "s3_ca_file", str),
    )

    @classmethod
    def from_env(cls, environ=None, **overrides):
        environ = os.environ if environ is None else environ
        values = {}
        for variable, name, parse in cls.ENVIRONMENT:
            if environ.get(variable, "") != "":
                try:
                    values[name] = parse(environ[variable])
                except ValueError as exc:
                    raise BackupError(f"{variable}: {exc}") from None
        # boto3's own CA bundle is the S3 store's CA unless the backups are told another one.
        values.setdefault("s3_ca_file", environ.get("AWS_CA_BUNDLE", ""))
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    @classmethod
    def from_settings(cls, settings):
        """From Pier's Settings once its fields are `backup_<name>` (backup_config, backup_retention_full …)."""
        return cls(**{name: getattr(settings, f"backup_{name}") for _, name, _ in cls.ENVIRONMENT})

    def check(self):
        if self.retention_full < 1 or self.retention_diff < 1:
            raise BackupError("PIER_BACKUP_RETENTION_FULL and PIER_BACKUP_RETENTION_DIFF must be at least 1")
        if not 1 <= self.archive_timeout <= 3600:
            raise BackupError("PIER_BACKUP_ARCHIVE_TIMEOUT must be between 1 and 3600 seconds")
        if not re.fullmatch(r"[a-z_][a-z0-9_-]*", self.user):
            raise BackupError(f"PIER_BACKUP_USER {self.user!r} is not a user name")


CRON_NAMES = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def cron_fields(text):
    """"0 3 * * 0" -> {"minute": "0", "hour": "3", ...}: the arguments of Celery's `crontab`."""
    fields = text.split()
    if len(fields) != 5 or not all(re.fullmatch(r"[0-9a-z*/,-]+", field) for field in fields):
        raise ValueError(f"{text!r} is not a cron schedule of five fields (minute hour day month weekday), "
                         "e.g. '0 3 * * 0' for Sundays at 03:00")
    return dict(zip(CRON_NAMES, fields))


@dataclass(frozen=True)
class Backup:
    label: str
    type: str
    start: datetime
    end: datetime
    size: int             # bytes of the database when it was backed up
    repository_size: int  # bytes this backup added to the repository (compressed, only what changed)
    wal_start: str
    wal_stop: str
    lsn_start: str
    lsn_stop: str
    prior: str | None     # the backup a differential or incremental one builds on

    @classmethod
    def from_info(cls, entry):
        def moment(seconds):
            return datetime.fromtimestamp(seconds, timezone.utc)
        return cls(label=entry["label"], type=entry["type"], start=moment(entry["timestamp"]["start"]),
                   end=moment(entry["timestamp"]["stop"]), size=entry["info"]["size"],
                   repository_size=entry["info"]["repository"]["delta"], wal_start=entry["archive"]["start"],
                   wal_stop=entry["archive"]["stop"], lsn_start=entry["lsn"]["start"],
                   lsn_stop=entry["lsn"]["stop"], prior=entry.get("prior"))

    def as_dict(self):
        def moment(value):
            return value.isoformat().replace("+00:00", "Z")
        return {"label": self.label, "type": self.type, "start": moment(self.start), "end": moment(self.end),
                "size": self.size, "repository_size": self.repository_size, "wal_start": self.wal_start,
                "wal_stop": self.wal_stop, "lsn_start": self.lsn_start, "lsn_stop": self.lsn_stop,
                "prior": self.prior}


@dataclass(frozen=True)
class Repository:
    """What `pgbackrest info` found: a status code and message, the backups (oldest first), the WAL range."""
    code: int
    message: str
    backups: tuple = ()
    wal_min: str | None = None
    wal_max: str | None = None

    @property
    def readable(self):
        return self.code in READABLE

    @property
    def has_stanza(self):
        return self.code != NO_STANZA


def parse_info(text):
    """The stanza's Repository from `pgbackrest info --output=json`, which exits 0 even when the repository
    cannot be read: the repository's own status says so."""
    try:
        stanzas = json.loads(text)
        stanza = next(entry for entry in stanzas if entry["name"] == STANZA)
        status = stanza["repo"][0]["status"] if stanza.get("repo") else stanza["status"]
        backups = tuple(sorted((Backup.from_info(entry) for entry in stanza["backup"]),
                               key=lambda backup: (backup.start, backup.end)))
        archives = stanza.get("archive") or [{}]
        current = archives[-1]
        return Repository(code=status["code"], message=status["message"], backups=backups,
                          wal_min=current.get("min"), wal_max=current.get("max"))
    except (ValueError, KeyError, TypeError, IndexError, StopIteration) as exc:
        raise BackupError(f"pgBackRest's info answer could not be read ({type(exc).__name__}: {exc}); "
                          f"it began: {text[:200]!r}") from None


# What to do about a failure, by what pgBackRest said.
ADVICE = (
    (r"InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|\b403\b",
     "check PIER_S3_ACCESS_KEY and PIER_S3_SECRET_KEY, and that they may list, read and write the bucket"),
    (r"NoSuchBucket", "check PIER_S3_BUCKET (scripts/database creates the bucket when it is missing)"),
    (r"CryptoError|certificate",
     "pgBackRest checks the S3 server's certificate against the host name in PIER_S3_ENDPOINT (DNS names "
     "only, not IP addresses); set PIER_BACKUP_S3_CA_FILE to the CA that signed it"),
    (r"HostConnectError|unable to get address|Connection refused|timed out|waiting for (read|write) from",
     "check that the S3 server in PIER_S3_ENDPOINT is up and reachable from this machine"),
    (r"Permission denied",
     "the postgres user must be able to read and write the repository folder and enter every folder above it"),
    (r"No space left", "free space where the repository is"),
    (LOCK_ERROR.replace("[", r"\["), "wait for the other pgBackRest command to finish"),
)


def explain(text, redact=()):
    """One or two readable lines from pgBackRest's error output, with advice; secrets replaced by ***."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("ERROR:")), 0)
    lines = lines[start:]
    summary = lines[0] if lines else "no error output"
    summary = re.sub(r"^ERROR: \[\d+\]: ", "", summary)
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    if code:  # an S3 answer: its code and message say more than the request headers pgBackRest dumps
        summary = f"{summary.rstrip(':')}: {code.group(1)}" + (f": {message.group(1)}" if message else "")
    else:
        hints = [line for line in lines[1:] if line.startswith("HINT:")]
        summary = " ".join([summary, *hints[:1]])
    for pattern, advice in ADVICE:
        if re.search(pattern, text):
            summary = f"{summary} ({advice})"
            break
    for secret in redact:
        if secret:
            summary = summary.replace(secret, "***")
    return summary


class Backups:
    """pgBackRest commands on Pier's stanza, run as the cluster's owner (through runuser when we are root)."""

    def __init__(self, settings, *, redact=(), io_timeout=LIST_IO_TIMEOUT, run=subprocess.run):
        self.settings = settings
        self.config = os.path.abspath(settings.config)
        self.io_timeout = io_timeout  # for listing: pgBackRest gives up on a silent store after 4 times this
        self._redact = tuple(secret for secret in redact if secret)
        self._run = run

    def command(self, *arguments):
        argv = ["pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *arguments]
        if os.geteuid() == 0 and self.settings.user != "root":
            argv = ["runuser", "-u", self.settings.user, "--", *argv]
        return argv

    def run(self, *arguments, what):
        """Runs one pgBackRest command and returns its standard output; BackupError says what failed."""
        try:
            done = self._run(self.command(*arguments), capture_output=True, text=True, cwd="/")
        except OSError as exc:
            raise BackupError(f"{what}: pgBackRest could not be run ({exc.strerror or exc}); install the "
                              "pgbackrest package (scripts/platform.sh packages)") from None
        if done.returncode != 0:
            output = done.stderr.strip() or done.stdout.strip()
            kind = BackupInProgress if LOCK_ERROR in output else BackupError
            raise kind(f"{what} failed: {explain(output, self._redact)}")
        return done.stdout

    def repository(self):
        """The Repository as it is now; a repository that cannot be read is a status, not an exception."""
        return parse_info(self.run("info", "--output=json", f"--io-timeout={self.io_timeout}",
                                   what="listing the backups"))

    def list(self):
        """Every backup, oldest first; BackupError when the repository cannot be read."""
        repository = self.repository()
        if not repository.readable:
            raise BackupError("the backup repository cannot be read: "
                              f"{explain(repository.message, self._redact)}")
        return list(repository.backups)

    def take(self, kind="full"):
        """Takes a backup now and returns it. pgBackRest makes it full when there is nothing to build on,
        then expires what the retention settings no longer keep."""
        if kind not in KINDS:
            raise BackupError(f"a backup is one of {', '.join(KINDS)}, not {kind!r}")
        before = {backup.label for backup in self.list()}
        self.run("backup", f"--type={kind}", *self._retention(), what=f"taking a {kind} backup")
        after = self.list()
        new = [backup for backup in after if backup.label not in before]
        if not new:
            raise BackupError(f"pgBackRest reported a {kind} backup, but the repository does not list it")
        return new[-1]

    def expire(self):
        """Removes the backups and WAL the retention settings no longer keep."""
        self.run("expire", *self._retention(), what="expiring old backups")

    def check(self):
        """Checks that the repository is readable and writable and that WAL reaches it: pgBackRest forces a
        WAL switch and waits until that segment is archived."""
        self.run("check", what="checking the backup repository and WAL archiving")

    def _retention(self):
        return [f"--repo1-retention-full={self.settings.retention_full}",
                f"--repo1-retention-diff={self.settings.retention_diff}"]
