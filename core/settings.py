"""Every setting Pier reads, read once from the environment into one object."""
import ipaddress
import math
import os
import re
from dataclasses import dataclass, field

VERSION = "2.3.0"
API_VERSION = "2.3"

WEAK_SECRETS = {"", "changeme", "change-me", "secret", "default", "pier", "deis", "insecure"}
MIN_SECRET_LENGTH = 32
REGISTRATION_MODES = ("enabled", "disabled", "admin_only")
MIN_METRICS_TOKEN_LENGTH = 16
METRICS_PORTS = 7  # PIER_METRICS_PORT_BASE and the next ones: one per process (core.metrics.PORT_OFFSETS)
# One or more rate limits as Flask-Limiter (the `limits` package) reads them: "10/minute", "100 per 2 hours",
# "10/minute;100/hour". Checked here with a pattern, because importing `limits` would slow the git hook down.
RATE = re.compile(r"\s*[1-9][0-9]*\s*(?:/|per)\s*(?:[1-9][0-9]*\s*)?(?:second|minute|hour|day|month|year)s?\s*",
                  re.IGNORECASE)
THIRTY_DAYS = 30 * 24 * 3600


class SettingsError(Exception):
    """A setting is missing or unsafe; the process must not start."""


def _bool(text):
    return text.strip().lower() in ("1", "true", "yes", "on")


def _names(text):
    return tuple(n.strip() for n in text.split(",") if n.strip())


@dataclass(frozen=True)
class Settings:
    secret_key: str = field(repr=False)
    builder_key: str = field(repr=False)
    database_url: str = "postgresql+psycopg://pier@127.0.0.1:5432/pier"
    redis_url: str = "redis://127.0.0.1:6379/0"
    registration_mode: str = "admin_only"
    reserved_names: tuple = ("pier", "deis", "api", "builder", "controller", "registry", "router",
                             "www", "flower", "localhost")
    domain: str = "localhost"
    scheduler: str = "docker"
    kubeconfig: str = ""
    sync_timeout: float = 120.0
    max_body_bytes: int = 1024 * 1024
    log_lines: int = 100
    reject_if_procfile_missing: bool = False
    job_time_limit: int = 1800
    deploy_timeout: float = 120.0
    drain_seconds: float = 2.0
    stop_grace_seconds: int = 10
    router_listen: str = "80"
    router_tls_listen: str = "443"
    router_runtime: str = "var/router"
    router_trusted_proxies: tuple = ()
    controller_url: str = "http://127.0.0.1:8000"
    builder_listen: str = "2222"
    builder_host_key: str = "var/builder/ssh_host_ed25519_key"
    builder_auth_failures: int = 20
    builder_auth_failure_window: float = 60.0
    builder_unauthenticated_per_source: int = 10
    builder_unauthenticated: int = 100
    builder_login_grace: float = 30.0
    builder_idle_timeout: float = 3600.0
    git_root: str = "var/git"
    push_lock_timeout: int = 30
    build_timeout: int = 900
    build_memory: str = "2G"
    registry: str = "127.0.0.1:5000"
    registry_user: str = "pier"
    registry_password: str = field(default="", repr=False)
    stack_image: str = "pier/stack:bookworm"
    build_cache_path: str = "var/cache/builds"
    storage: str = "filesystem"
    storage_path: str = "var/storage"
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_bucket: str = "pier"
    s3_access_key: str = field(default="", repr=False)
    s3_secret_key: str = field(default="", repr=False)
    s3_path_style: bool = False
    max_apps_per_user: int = 100
    max_replicas: int = 100
    max_config_bytes: int = 64 * 1024
    max_runs_per_user: int = 2
    log_follow_per_user: int = 4
    log_follow_max: int = 8
    container_memory: str = "1G"
    container_pids: int = 1024
    # database backups (pgBackRest; core/backups.py)
    backup_config: str = "var/database/pgbackrest.conf"
    backup_user: str = "postgres"
    backup_full_schedule: str = "0 3 * * 0"
    backup_diff_schedule: str = "0 3 * * 1-6"
    backup_retention_full: int = 2
    backup_retention_diff: int = 7
    backup_archive_timeout: int = 55
    backup_s3_ca_file: str = ""
    # metrics (Prometheus text format; core/metrics.py)
    metrics_host: str = "127.0.0.1"
    metrics_port_base: int = 9400
    metrics_token: str = field(default="", repr=False)
    flower_port: int = 5555
    flower_password: str = field(default="", repr=False)
    metrics_folder: str = "var/metrics"
    beat_schedule: str = "var/celerybeat-schedule"
    login_rate: str = "10/minute"
    register_rate: str = "10/hour"
    key_lookup_rate: str = "120/minute"
    password_min_length: int = 8
    token_ttl: int = THIRTY_DAYS
    # garbage collection of old builds' images, slugs and sources (workers/runners/gc.py)
    retention_releases: int = 10
    gc_schedule: str = "0 4 * * *"
    registry_config: str = "var/registry/config.yml"
    # the autoscale round (workers/runners/autoscale.py): samples and scales, or hands rules to Kubernetes' HPAs
    autoscale_interval: float = 15.0
    autoscale_down_window: float = 300.0

    # (environment variable, field, parser); documented in the README's settings table.
    ENVIRONMENT = (
        ("PIER_SECRET_KEY", "secret_key", str),
        ("PIER_BUILDER_KEY", "builder_key", str),
        ("DATABASE_URL", "database_url", str),
        ("REDIS_URL", "redis_url", str),
        ("PIER_REGISTRATION_MODE", "registration_mode", str),
        ("PIER_RESERVED_NAMES", "reserved_names", _names),
        ("PIER_DOMAIN", "domain", str),
        ("PIER_SCHEDULER", "scheduler", str),
        ("KUBECONFIG", "kubeconfig", str),  # PIER_KUBECONFIG, below, wins when both are set
        ("PIER_KUBECONFIG", "kubeconfig", str),
        ("PIER_SYNC_TIMEOUT", "sync_timeout", float),
        ("PIER_MAX_BODY_BYTES", "max_body_bytes", int),
        ("PIER_LOG_LINES", "log_lines", int),
        ("PIER_DEPLOY_REJECT_IF_PROCFILE_MISSING", "reject_if_procfile_missing", _bool),
        ("PIER_JOB_TIME_LIMIT", "job_time_limit", int),
        ("PIER_DEPLOY_TIMEOUT", "deploy_timeout", float),
        ("PIER_DRAIN_SECONDS", "drain_seconds", float),
        ("PIER_STOP_GRACE_SECONDS", "stop_grace_seconds", int),
        ("PIER_ROUTER_LISTEN", "router_listen", str),
        ("PIER_ROUTER_TLS_LISTEN", "router_tls_listen", str),
        ("PIER_ROUTER_RUNTIME", "router_runtime", str),
        ("PIER_ROUTER_TRUSTED_PROXIES", "router_trusted_proxies", _names),
        ("PIER_CONTROLLER_URL", "controller_url", str),
        ("PIER_BUILDER_LISTEN", "builder_listen", str),
        ("PIER_BUILDER_HOST_KEY", "builder_host_key", str),
        ("PIER_BUILDER_AUTH_FAILURES", "builder_auth_failures", int),
        ("PIER_BUILDER_AUTH_FAILURE_WINDOW", "builder_auth_failure_window", float),
        ("PIER_BUILDER_UNAUTHENTICATED_PER_SOURCE", "builder_unauthenticated_per_source", int),
        ("PIER_BUILDER_UNAUTHENTICATED", "builder_unauthenticated", int),
        ("PIER_BUILDER_LOGIN_GRACE", "builder_login_grace", float),
        ("PIER_BUILDER_IDLE_TIMEOUT", "builder_idle_timeout", float),
        ("PIER_GIT_ROOT", "git_root", str),
        ("PIER_PUSH_LOCK_TIMEOUT", "push_lock_timeout", int),
        ("PIER_BUILD_TIMEOUT", "build_timeout", int),
        ("PIER_BUILD_MEMORY", "build_memory", str),
        ("PIER_REGISTRY", "registry", str),
        ("PIER_REGISTRY_USER", "registry_user", str),
        ("PIER_REGISTRY_PASSWORD", "registry_password", str),
        ("PIER_STACK_IMAGE", "stack_image", str),
        ("PIER_BUILD_CACHE_PATH", "build_cache_path", str),
        ("PIER_STORAGE", "storage", str),
        ("PIER_STORAGE_PATH", "storage_path", str),
        ("PIER_S3_ENDPOINT", "s3_endpoint", str),
        ("PIER_S3_REGION", "s3_region", str),
        ("PIER_S3_BUCKET", "s3_bucket", str),
        ("PIER_S3_ACCESS_KEY", "s3_access_key", str),
        ("PIER_S3_SECRET_KEY", "s3_secret_key", str),
        ("PIER_S3_PATH_STYLE", "s3_path_style", _bool),
        ("PIER_MAX_APPS_PER_USER", "max_apps_per_user", int),
        ("PIER_MAX_REPLICAS", "max_replicas", int),
        ("PIER_MAX_CONFIG_BYTES", "max_config_bytes", int),
        ("PIER_MAX_RUNS_PER_USER", "max_runs_per_user", int),
        ("PIER_LOG_FOLLOW_PER_USER", "log_follow_per_user", int),
        ("PIER_LOG_FOLLOW_MAX", "log_follow_max", int),
        ("PIER_CONTAINER_MEMORY", "container_memory", str),
        ("PIER_CONTAINER_PIDS", "container_pids", int),
        ("PIER_BACKUP_CONFIG", "backup_config", str),
        ("PIER_BACKUP_USER", "backup_user", str),
        ("PIER_BACKUP_FULL_SCHEDULE", "backup_full_schedule", str),
        ("PIER_BACKUP_DIFF_SCHEDULE", "backup_diff_schedule", str),
        ("PIER_BACKUP_RETENTION_FULL", "backup_retention_full", int),
        ("PIER_BACKUP_RETENTION_DIFF", "backup_retention_diff", int),
        ("PIER_BACKUP_ARCHIVE_TIMEOUT", "backup_archive_timeout", int),
        ("PIER_BACKUP_S3_CA_FILE", "backup_s3_ca_file", str),
        ("PIER_METRICS_HOST", "metrics_host", str),
        ("PIER_METRICS_PORT_BASE", "metrics_port_base", int),
        ("PIER_METRICS_TOKEN", "metrics_token", str),
        ("PIER_FLOWER_PORT", "flower_port", int),
        ("PIER_FLOWER_PASSWORD", "flower_password", str),
        ("PIER_METRICS_FOLDER", "metrics_folder", str),
        ("PIER_BEAT_SCHEDULE", "beat_schedule", str),
        ("PIER_LOGIN_RATE", "login_rate", str),
        ("PIER_REGISTER_RATE", "register_rate", str),
        ("PIER_KEY_LOOKUP_RATE", "key_lookup_rate", str),
        ("PIER_PASSWORD_MIN_LENGTH", "password_min_length", int),
        ("PIER_TOKEN_TTL", "token_ttl", int),
        ("PIER_RETENTION_RELEASES", "retention_releases", int),
        ("PIER_GC_SCHEDULE", "gc_schedule", str),
        ("PIER_REGISTRY_CONFIG", "registry_config", str),
        ("PIER_AUTOSCALE_INTERVAL", "autoscale_interval", float),
        ("PIER_AUTOSCALE_DOWN_WINDOW", "autoscale_down_window", float),
    )

    @classmethod
    def from_env(cls, environ=None, **overrides):
        environ = os.environ if environ is None else environ
        values = {}
        for variable, name, parse in cls.ENVIRONMENT:
            if variable in environ:
                try:
                    values[name] = parse(environ[variable])
                except ValueError as exc:
                    raise SettingsError(f"{variable}: {exc}") from None
        values.setdefault("secret_key", "")
        values.setdefault("builder_key", "")
        # boto3's own CA bundle is the S3 store's CA for backups too, unless they are told another one
        values.setdefault("backup_s3_ca_file", environ.get("AWS_CA_BUNDLE", ""))
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def registry_auth(self):
        """The platform's credentials for its registry, as the Docker SDK takes them (None: anonymous)."""
        if not self.registry_password:
            return None
        return {"username": self.registry_user, "password": self.registry_password}

    def check(self):
        for variable, name in (("PIER_SECRET_KEY", "secret_key"), ("PIER_BUILDER_KEY", "builder_key")):
            value = getattr(self, name)
            if value.strip().lower() in WEAK_SECRETS or len(value) < MIN_SECRET_LENGTH:
                raise SettingsError(
                    f"{variable} is empty, a default, or shorter than {MIN_SECRET_LENGTH} characters; "
                    "`make run` generates one into var/pier.env")
        if self.registration_mode not in REGISTRATION_MODES:
            raise SettingsError(f"PIER_REGISTRATION_MODE must be one of {', '.join(REGISTRATION_MODES)}")
        for variable, name in (("PIER_SYNC_TIMEOUT", "sync_timeout"), ("PIER_DEPLOY_TIMEOUT", "deploy_timeout")):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise SettingsError(f"{variable} must be a positive number of seconds")
        if not (math.isfinite(self.drain_seconds) and self.drain_seconds >= 0) or self.stop_grace_seconds < 0:
            raise SettingsError("PIER_DRAIN_SECONDS and PIER_STOP_GRACE_SECONDS cannot be negative")
        if not re.fullmatch(r"[0-9]+[KMG]B?", self.container_memory, re.IGNORECASE):
            raise SettingsError("PIER_CONTAINER_MEMORY must be a size such as 512M or 1G")
        for variable, name in (("PIER_BACKUP_FULL_SCHEDULE", "backup_full_schedule"),
                               ("PIER_BACKUP_DIFF_SCHEDULE", "backup_diff_schedule"),
                               ("PIER_GC_SCHEDULE", "gc_schedule")):
            if len(getattr(self, name).split()) != 5:
                raise SettingsError(f"{variable} must be a cron schedule of five fields, e.g. '0 3 * * 0'")
        if self.backup_retention_full < 1 or self.backup_retention_diff < 1:
            raise SettingsError("PIER_BACKUP_RETENTION_FULL and PIER_BACKUP_RETENTION_DIFF must be at least 1")
        if self.metrics_token and len(self.metrics_token) < MIN_METRICS_TOKEN_LENGTH:
            raise SettingsError(f"PIER_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LENGTH} characters "
                                "(`make run` generates one into var/pier.env), or empty to turn /metrics off")
        if not 0 <= self.metrics_port_base <= 65535 - METRICS_PORTS:
            raise SettingsError(f"PIER_METRICS_PORT_BASE must be 0 (no metrics endpoints) or a port under "
                                f"{65536 - METRICS_PORTS}: the processes take it and the next {METRICS_PORTS - 1}")
        if self.storage not in ("filesystem", "s3"):
            raise SettingsError("PIER_STORAGE must be filesystem or s3")
        if self.storage == "s3" and not self.s3_bucket:
            raise SettingsError("PIER_S3_BUCKET is needed when PIER_STORAGE is s3")
        if self.push_lock_timeout < 3:
            raise SettingsError("PIER_PUSH_LOCK_TIMEOUT must be at least 3 seconds (it is renewed every third)")
        if self.build_timeout < 1:
            raise SettingsError("PIER_BUILD_TIMEOUT must be at least 1 second")
        for variable, name in (("PIER_LOG_LINES", "log_lines"), ("PIER_MAX_BODY_BYTES", "max_body_bytes"),
                               ("PIER_JOB_TIME_LIMIT", "job_time_limit"),
                               ("PIER_MAX_APPS_PER_USER", "max_apps_per_user"),
                               ("PIER_MAX_REPLICAS", "max_replicas"), ("PIER_MAX_CONFIG_BYTES", "max_config_bytes"),
                               ("PIER_MAX_RUNS_PER_USER", "max_runs_per_user"),
                               ("PIER_LOG_FOLLOW_PER_USER", "log_follow_per_user"),
                               ("PIER_LOG_FOLLOW_MAX", "log_follow_max"), ("PIER_CONTAINER_PIDS", "container_pids"),
                               ("PIER_BUILDER_AUTH_FAILURES", "builder_auth_failures"),
                               ("PIER_BUILDER_UNAUTHENTICATED_PER_SOURCE", "builder_unauthenticated_per_source"),
                               ("PIER_BUILDER_UNAUTHENTICATED", "builder_unauthenticated"),
                               ("PIER_RETENTION_RELEASES", "retention_releases")):
            if getattr(self, name) < 1:
                raise SettingsError(f"{variable} must be at least 1")
        for variable, name in (("PIER_LOGIN_RATE", "login_rate"), ("PIER_REGISTER_RATE", "register_rate"),
                               ("PIER_KEY_LOOKUP_RATE", "key_lookup_rate")):
            if not all(RATE.fullmatch(part) for part in re.split(r"[;,]", getattr(self, name))):
                raise SettingsError(f"{variable} must be a rate such as 10/minute or 100 per 2 hours "
                                    "(several separated by ;)")
        for proxy in self.router_trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(f"PIER_ROUTER_TRUSTED_PROXIES: {proxy!r} is not an address or CIDR") from None
        if not 1 <= self.password_min_length <= 1024:
            raise SettingsError("PIER_PASSWORD_MIN_LENGTH must be between 1 and 1024")
        if self.token_ttl < 0:
            raise SettingsError("PIER_TOKEN_TTL cannot be negative (0 means tokens never expire)")
        if not (math.isfinite(self.autoscale_interval) and self.autoscale_interval >= 1):
            raise SettingsError("PIER_AUTOSCALE_INTERVAL must be at least 1 second")
        if not (math.isfinite(self.autoscale_down_window) and self.autoscale_down_window >= 0):
            raise SettingsError("PIER_AUTOSCALE_DOWN_WINDOW must be a number of seconds, 0 or more")
        for variable, name in (("PIER_BUILDER_AUTH_FAILURE_WINDOW", "builder_auth_failure_window"),
                               ("PIER_BUILDER_LOGIN_GRACE", "builder_login_grace"),
                               ("PIER_BUILDER_IDLE_TIMEOUT", "builder_idle_timeout")):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 1):
                raise SettingsError(f"{variable} must be at least 1 second")

