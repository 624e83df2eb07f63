import dataclasses

import limits
import pytest

from core.settings import Settings, SettingsError

SECRET = "s" * 32
BUILDER = "b" * 40


def env(**values):
    base = {"PIER_SECRET_KEY": SECRET, "PIER_BUILDER_KEY": BUILDER}
    base.update(values)
    return base


def test_minimal_environment_uses_defaults():
    settings = Settings.from_env(env())
    assert settings.secret_key == SECRET and settings.builder_key == BUILDER
    assert settings.registration_mode == "admin_only"
    assert settings.domain == "localhost"
    assert settings.sync_timeout == 120.0
    assert settings.reject_if_procfile_missing is False
    assert "deis" in settings.reserved_names


def test_every_variable_is_read():
    settings = Settings.from_env({
        "PIER_SECRET_KEY": SECRET,
        "PIER_BUILDER_KEY": BUILDER,
        "DATABASE_URL": "postgresql+psycopg://u:p@db:5432/pier",
        "REDIS_URL": "redis://cache:6379/2",
        "PIER_REGISTRATION_MODE": "disabled",
        "PIER_RESERVED_NAMES": " admin, ops ,,billing ",
        "PIER_DOMAIN": "apps.example.com",
        "PIER_SCHEDULER": "none",
        "PIER_SYNC_TIMEOUT": "7.5",
        "PIER_MAX_BODY_BYTES": "2048",
        "PIER_LOG_LINES": "25",
        "PIER_DEPLOY_REJECT_IF_PROCFILE_MISSING": "true",
        "PIER_JOB_TIME_LIMIT": "60",
        "PIER_LOGIN_RATE": "5 per 2 minutes",
        "PIER_REGISTER_RATE": "3/hour;20/day",
        "PIER_KEY_LOOKUP_RATE": "1000/minute",
        "PIER_PASSWORD_MIN_LENGTH": "12",
        "PIER_TOKEN_TTL": "3600",
    })
    assert settings == Settings(
        secret_key=SECRET, builder_key=BUILDER, database_url="postgresql+psycopg://u:p@db:5432/pier",
        redis_url="redis://cache:6379/2", registration_mode="disabled", reserved_names=("admin", "ops", "billing"),
        domain="apps.example.com", scheduler="none", sync_timeout=7.5, max_body_bytes=2048, log_lines=25,
        reject_if_procfile_missing=True, job_time_limit=60, login_rate="5 per 2 minutes",
        register_rate="3/hour;20/day", key_lookup_rate="1000/minute", password_min_length=12, token_ttl=3600)


def test_every_field_has_a_variable():
    read = {name for _, name, _ in Settings.ENVIRONMENT}
    assert read == {f.name for f in dataclasses.fields(Settings)}


@pytest.mark.parametrize("text, value", [
    ("1", True), ("yes", True), ("ON", True), (" true ", True), ("0", False), ("no", False), ("", False),
])
def test_boolean_variables(text, value):
    assert Settings.from_env(env(PIER_DEPLOY_REJECT_IF_PROCFILE_MISSING=text)).reject_if_procfile_missing is value


def test_empty_reserved_names():
    assert Settings.from_env(env(PIER_RESERVED_NAMES="")).reserved_names == ()


def test_overrides_win_over_environment():
    settings = Settings.from_env(env(PIER_DOMAIN="a.example"), domain="b.example")
    assert settings.domain == "b.example"


def test_reads_os_environ_when_not_given(monkeypatch):
    for name, value in env(PIER_DOMAIN="from-os.example").items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env().domain == "from-os.example"


@pytest.mark.parametrize("variable", ["PIER_SECRET_KEY", "PIER_BUILDER_KEY"])
@pytest.mark.parametrize("value", [None, "", " " * 40, "changeme", "secret", "default", "x" * 31,
                                   "  CHANGEME  " + " " * 30])
def test_weak_secrets_are_refused(variable, value):
    environ = env()
    if value is None:
        del environ[variable]
    else:
        environ[variable] = value
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(environ)
    assert variable in str(raised.value)


def test_weak_secret_via_override_is_refused():
    with pytest.raises(SettingsError):
        Settings.from_env(env(), secret_key="changeme")


@pytest.mark.parametrize("mode", ["enabled", "disabled", "admin_only"])
def test_registration_modes(mode):
    assert Settings.from_env(env(PIER_REGISTRATION_MODE=mode)).registration_mode == mode


@pytest.mark.parametrize("mode", ["", "open", "Enabled", "admin-only", "on"])
def test_bad_registration_mode_is_refused(mode):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env(PIER_REGISTRATION_MODE=mode))
    assert "PIER_REGISTRATION_MODE" in str(raised.value)


@pytest.mark.parametrize("variable, value", [
    ("PIER_SYNC_TIMEOUT", "soon"), ("PIER_MAX_BODY_BYTES", "1MB"), ("PIER_LOG_LINES", "many"),
    ("PIER_JOB_TIME_LIMIT", "1.5"),
])
def test_unparseable_numbers_are_refused(variable, value):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env(**{variable: value}))
    assert variable in str(raised.value)


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_sync_timeout_must_be_positive(value):
    with pytest.raises(SettingsError):
        Settings.from_env(env(PIER_SYNC_TIMEOUT=value))


@pytest.mark.parametrize("variable", ["PIER_LOG_LINES", "PIER_MAX_BODY_BYTES", "PIER_JOB_TIME_LIMIT"])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_counts_must_be_positive(variable, value):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env(**{variable: value}))
    assert variable in str(raised.value)


def test_secrets_are_not_in_repr():
    text = repr(Settings.from_env(env()))
    assert SECRET not in text and BUILDER not in text


def test_authentication_defaults():
    settings = Settings.from_env(env())
    assert (settings.login_rate, settings.register_rate, settings.key_lookup_rate) == (
        "10/minute", "10/hour", "120/minute")
    assert settings.password_min_length == 8 and settings.token_ttl == 30 * 24 * 3600


@pytest.mark.parametrize("rate", ["10/minute", "10 per minute", "100 per 2 hours", "1/second", "5/Minute",
                                  "10/minute;100/hour", "3/hour, 20/day", "7/10 seconds"])
def test_rates_that_flask_limiter_reads_are_accepted(rate):
    assert Settings.from_env(env(PIER_LOGIN_RATE=rate)).login_rate == rate
    assert limits.parse_many(rate)


@pytest.mark.parametrize("variable", ["PIER_LOGIN_RATE", "PIER_REGISTER_RATE", "PIER_KEY_LOOKUP_RATE"])
@pytest.mark.parametrize("rate", ["", "10", "ten/minute", "0/minute", "10/fortnight", "10/minute;", "-1/hour"])
def test_rates_that_mean_nothing_are_refused(variable, rate):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env(**{variable: rate}))
    assert variable in str(raised.value)


@pytest.mark.parametrize("variable, value", [("PIER_PASSWORD_MIN_LENGTH", "0"), ("PIER_PASSWORD_MIN_LENGTH", "2000"),
                                             ("PIER_TOKEN_TTL", "-1"), ("PIER_TOKEN_TTL", "soon"),
                                             ("PIER_ROUTER_TRUSTED_PROXIES", "10.0.0.1,proxy.example")])
def test_bad_authentication_settings_are_refused(variable, value):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env(**{variable: value}))
    assert variable in str(raised.value)


def test_a_token_ttl_of_zero_is_allowed():
    assert Settings.from_env(env(PIER_TOKEN_TTL="0")).token_ttl == 0


def test_the_kubeconfig_is_pier_kubeconfig_else_kubeconfig():
    assert Settings.from_env(env()).kubeconfig == ""  # in a cluster: the pod's service account
    assert Settings.from_env(env(KUBECONFIG="/home/ada/.kube/config")).kubeconfig == "/home/ada/.kube/config"
    both = env(KUBECONFIG="/home/ada/.kube/config", PIER_KUBECONFIG="/etc/pier/kubeconfig")
    assert Settings.from_env(both).kubeconfig == "/etc/pier/kubeconfig"
