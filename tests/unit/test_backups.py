"""core.backups and core.backup_config without pgBackRest: its answers are parsed, its errors explained, its
configuration rendered. The answers below are pgBackRest 2.45's own, trimmed."""
import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from core import backup_config
from core.backups import (BackupError, BackupInProgress, Backups, BackupSettings, cron_fields, explain,
                          parse_info)

FULL = {"archive": {"start": "000000010000000000000002", "stop": "000000010000000000000003"},
        "backrest": {"format": 5, "version": "2.45"}, "database": {"id": 1, "repo-key": 1}, "error": False,
        "info": {"delta": 22956398, "repository": {"delta": 4504775, "size": 4504775}, "size": 22956398},
        "label": "20261202-055420F", "lsn": {"start": "0/2000028", "stop": "0/3000050"}, "prior": None,
        "reference": None, "timestamp": {"start": 1796190860, "stop": 1796190863}, "type": "full"}
DIFF = dict(FULL, archive={"start": "000000010000000000000009", "stop": "000000010000000000000009"},
            info={"delta": 1200000, "repository": {"delta": 150000, "size": 4600000}, "size": 23000000},
            label="20261202-055420F_20261203-030001D", lsn={"start": "0/9000028", "stop": "0/9000100"},
            prior="20261202-055420F", reference=["20261202-055420F"],
            timestamp={"start": 1796263201, "stop": 1796263203}, type="diff")


def info(backups=(), code=0, message="ok", archive=("000000010000000000000001", "000000010000000000000009")):
    return json.dumps([{
        "archive": [{"database": {"id": 1, "repo-key": 1}, "id": "15-1", "min": archive[0], "max": archive[1]}],
        "backup": list(backups), "cipher": "none", "db": [], "name": "pier",
        "repo": [{"cipher": "none", "key": 1, "status": {"code": code, "message": message}}],
        "status": {"code": code, "lock": {"backup": {"held": False}}, "message": message}}])


S3_403 = ("[ProtocolError] HTTP request failed with 403 (FORBIDDEN):\n*** Path/Query ***:\n"
          "GET /pier/?delimiter=%2F&list-type=2&prefix=database%2Fbackup%2F\n*** Request Headers ***:\n"
          "authorization: <redacted>\nhost: localhost\n*** Response Content ***:\n"
          "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The "
          "request signature we calculated does not match the signature you provided.</Message></Error>")


def test_the_info_answer_becomes_backups_oldest_first():
    repository = parse_info(info([DIFF, FULL]))
    assert repository.readable and repository.has_stanza
    full, diff = repository.backups
    assert (full.label, full.type, full.prior, diff.type, diff.prior) == (
        "20261202-055420F", "full", None, "diff", "20261202-055420F")
    assert full.start == datetime(2026, 12, 2, 5, 54, 20, tzinfo=timezone.utc)
    assert (full.size, full.repository_size, diff.repository_size) == (22956398, 4504775, 150000)
    assert (full.wal_start, full.wal_stop) == ("000000010000000000000002", "000000010000000000000003")
    assert (repository.wal_min, repository.wal_max) == ("000000010000000000000001", "000000010000000000000009")
    assert full.as_dict() == {
        "label": "20261202-055420F", "type": "full", "start": "2026-12-02T05:54:20Z", "end": "2026-12-02T05:54:23Z",
        "size": 22956398, "repository_size": 4504775, "wal_start": "000000010000000000000002",
        "wal_stop": "000000010000000000000003", "lsn_start": "0/2000028", "lsn_stop": "0/3000050", "prior": None}


def test_an_empty_repository_and_a_failed_one_are_told_apart():
    empty = parse_info(info(code=1, message="missing stanza path", archive=(None, None)))
    assert empty.readable and not empty.has_stanza and empty.backups == ()
    no_backups = parse_info(info(code=2, message="no valid backups"))
    assert no_backups.readable and no_backups.has_stanza
    failed = parse_info(info(code=99, message="[PathOpenError] unable to list file info for path "
                                              "'/srv/storage/database/backup': [13] Permission denied"))
    assert not failed.readable
    with pytest.raises(BackupError, match="could not be read"):
        parse_info("not json")


def test_errors_are_explained_with_what_to_do_and_no_secret():
    text = explain(S3_403 + "\nsecret-in-a-message", redact=("secret-in-a-message",))
    assert text.startswith("[ProtocolError] HTTP request failed with 403 (FORBIDDEN): SignatureDoesNotMatch: "
                           "The request signature")
    assert "PIER_S3_SECRET_KEY" in text and "Path/Query" not in text
    assert "secret-in-a-message" not in explain("ERROR: [029]: key secret-in-a-message refused",
                                                redact=("secret-in-a-message",))
    denied = explain("[PathOpenError] unable to list file info for path '/x/backup': [13] Permission denied")
    assert "postgres user must be able to read and write" in denied
    refused = explain("[HostConnectError] unable to connect to 'minio:9000': [111] Connection refused")
    assert "is up and reachable" in refused
    hinted = explain("WARN: something\nERROR: [082]: WAL segment 000000010000000000000003 was not archived "
                     "before the 60000ms timeout\n       HINT: check the archive_command to ensure that all "
                     "options are correct\n")
    assert hinted == ("WAL segment 000000010000000000000003 was not archived before the 60000ms timeout "
                      "HINT: check the archive_command to ensure that all options are correct")


@dataclass
class Done:
    returncode: int
    stdout: str = ""
    stderr: str = ""


class Recorder:
    def __init__(self, *answers):
        self.answers, self.calls = list(answers), []

    def __call__(self, argv, **options):
        self.calls.append(argv)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_commands_run_as_the_cluster_owner_and_failures_become_backup_errors(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    run = Recorder(Done(0, info([FULL])), Done(0), Done(0, info([FULL, DIFF])),
                   Done(25, stderr="ERROR: [050]: unable to acquire lock on file '/x/pier-backup.lock'\n"
                                   "HINT: is another pgBackRest process running?"),
                   FileNotFoundError(2, "No such file or directory"))
    backups = Backups(BackupSettings(config="/srv/pier/var/database/pgbackrest.conf", retention_full=3), run=run)
    assert backups.take("diff").label == DIFF["label"]
    assert run.calls[1] == ["runuser", "-u", "postgres", "--", "pgbackrest",
                            "--config=/srv/pier/var/database/pgbackrest.conf", "--stanza=pier", "backup",
                            "--type=diff", "--repo1-retention-full=3", "--repo1-retention-diff=7"]
    with pytest.raises(BackupInProgress, match="expiring old backups failed: unable to acquire lock.*wait for"):
        backups.expire()
    with pytest.raises(BackupError, match="install the pgbackrest package"):
        backups.check()


def test_a_repository_that_cannot_be_read_is_an_error_when_listing():
    backups = Backups(BackupSettings(), run=Recorder(Done(0, info(code=99, message=S3_403))))
    with pytest.raises(BackupError, match="cannot be read: .*SignatureDoesNotMatch"):
        backups.list()


def test_settings_from_the_environment():
    settings = BackupSettings.from_env({"PIER_BACKUP_RETENTION_FULL": "4", "AWS_CA_BUNDLE": "/etc/ca.pem",
                                        "PIER_BACKUP_DIFF_SCHEDULE": "30 2 * * *"})
    assert (settings.retention_full, settings.retention_diff, settings.archive_timeout) == (4, 7, 55)
    assert settings.s3_ca_file == "/etc/ca.pem" and settings.diff_schedule == "30 2 * * *"
    assert BackupSettings.from_env({"PIER_BACKUP_S3_CA_FILE": "/a.pem", "AWS_CA_BUNDLE": "/b.pem"}).s3_ca_file == "/a.pem"
    for bad in ({"PIER_BACKUP_RETENTION_FULL": "0"}, {"PIER_BACKUP_RETENTION_DIFF": "many"},
                {"PIER_BACKUP_FULL_SCHEDULE": "weekly"}, {"PIER_BACKUP_ARCHIVE_TIMEOUT": "0"},
                {"PIER_BACKUP_USER": "postgres; rm"}):
        with pytest.raises(BackupError):
            BackupSettings.from_env(bad)
    folded = SimpleNamespace(**{f"backup_{name}": getattr(settings, name) for _, name, _ in settings.ENVIRONMENT})
    assert BackupSettings.from_settings(folded) == settings
    assert cron_fields("0 3 * * 0") == {"minute": "0", "hour": "3", "day_of_month": "*", "month_of_year": "*",
                                        "day_of_week": "0"}


@dataclass
class Storage:
    storage: str = "filesystem"
    storage_path: str = "/srv/pier/var/storage"
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_bucket: str = "pier"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_path_style: bool = False


CLUSTER = backup_config.Cluster("/var/lib/postgresql/15/main", 5432)
BACKUP = BackupSettings(config="/srv/pier/var/database/pgbackrest.conf")


def options(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def test_the_folder_store_configuration():
    text = backup_config.render(Storage(), BACKUP, CLUSTER)
    assert "[global]" in text and "[pier]" in text
    values = options(text)
    assert values["repo1-type"] == "posix" and values["repo1-path"] == "/srv/pier/var/storage/database"
    assert values["lock-path"] == "/srv/pier/var/database/lock"
    assert (values["pg1-path"], values["pg1-port"]) == ("/var/lib/postgresql/15/main", "5432")
    assert (values["repo1-retention-full"], values["repo1-retention-diff"]) == ("2", "7")


def test_the_s3_configuration_for_minio():
    storage = Storage(storage="s3", s3_endpoint="https://minio.internal:9000", s3_bucket="backups",
                      s3_access_key="AKIA1", s3_secret_key="s3cr3t", s3_path_style=True)
    values = options(backup_config.render(storage, BackupSettings(config=BACKUP.config, s3_ca_file="/ca.pem"),
                                          CLUSTER))
    assert values["repo1-type"] == "s3" and values["repo1-path"] == "/database"
    assert (values["repo1-s3-endpoint"], values["repo1-storage-port"]) == ("minio.internal", "9000")
    assert values["repo1-s3-uri-style"] == "path" and values["repo1-s3-bucket"] == "backups"
    assert (values["repo1-s3-key"], values["repo1-s3-key-secret"]) == ("AKIA1", "s3cr3t")
    assert values["repo1-storage-ca-file"] == "/srv/pier/var/database/s3-ca.pem"
    aws = options(backup_config.render(Storage(storage="s3", s3_region="eu-west-1"), BACKUP, CLUSTER))
    assert aws["repo1-s3-endpoint"] == "s3.eu-west-1.amazonaws.com" and aws["repo1-s3-uri-style"] == "host"
    assert aws["repo1-s3-key-type"] == "auto" and "repo1-s3-key" not in aws and "repo1-storage-ca-file" not in aws


@pytest.mark.parametrize("storage, message", [
    (Storage(storage="s3", s3_endpoint="http://minio:9000"), "HTTPS only"),
    (Storage(storage="s3", s3_endpoint="https://minio:9000/bucket"), "without a path"),
    (Storage(storage="s3", s3_bucket=""), "PIER_S3_BUCKET"),
    (Storage(storage="s3", s3_access_key="AKIA1\nrepo1-path=/elsewhere"), "line break"),
    (Storage(storage="nfs"), "filesystem or s3"),
])
def test_settings_pgbackrest_cannot_take_are_refused(storage, message):
    with pytest.raises(BackupError, match=message):
        backup_config.render(storage, BACKUP, CLUSTER)


def test_archiving_settings_for_postgresql():
    text = backup_config.archiving(BACKUP)
    assert "archive_mode = on" in text and "archive_timeout = 55" in text
    assert ("archive_command = 'pgbackrest --config=/srv/pier/var/database/pgbackrest.conf --stanza=pier "
            "archive-push %p'") in text
    with pytest.raises(BackupError, match="plain path"):
        backup_config.archiving(BackupSettings(config="/srv/my pier/pgbackrest.conf"))
    with pytest.raises(BackupError, match="plain path"):
        backup_config.archiving(BackupSettings(config="/srv/pier';touch /tmp/x;'/pgbackrest.conf"))


def test_nothing_here_needs_flask_or_sqlalchemy():
    code = ("import sys, core.backups, core.backup_config, core.postgres_cluster; "
            "assert not {'flask', 'sqlalchemy', 'boto3'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([__import__("sys").executable, "-c", code], check=True)
