#!/usr/bin/env bash
# Idempotent set-up of everything Pier runs on, for a Debian/Ubuntu machine as root.
#   scripts/platform.sh packages   apt-installs what is missing
#   scripts/platform.sh secrets    writes var/pier.env once (secret key, builder key, DB password)
#   scripts/platform.sh services   starts PostgreSQL, Redis, the Docker engine and the registry
#   scripts/platform.sh database   creates the role and databases named in var/pier.env
#   scripts/platform.sh images     builds Pier's base and stack images locally when missing or stale
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
var="$top/var"
envfile="$var/pier.env"
registry_htpasswd=/var/lib/pier/registry.htpasswd
mkdir -p "$var/log"

packages() {
  local wanted=(postgresql redis-server nginx docker.io docker-registry git openssh-client
                openssh-server mmdebstrap curl python3-venv python3-dev build-essential iproute2 wrk
                pgbackrest prometheus)
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    # Prometheus is here for the metrics test, which runs /usr/bin/prometheus itself on a port of its own: the
    # service Debian starts on install (under systemd) would only hold :9090
    if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
      systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
  fi
}

secrets() {
  # Each secret is generated once; one added by a newer Pier is appended to an existing file.
  umask 077
  touch "$envfile"
  local name size added=""
  for pair in PIER_SECRET_KEY:32 PIER_BUILDER_KEY:32 PIER_DB_PASSWORD:16 PIER_REGISTRY_PASSWORD:24 \
              PIER_FLOWER_PASSWORD:16 PIER_METRICS_TOKEN:24; do
    name=${pair%%:*} size=${pair##*:}
    grep -q "^$name=" "$envfile" && continue
    echo "$name=$(openssl rand -hex "$size")" >> "$envfile"
    added="$added $name"
  done
  [ -n "$added" ] && echo "wrote$added to $envfile (secrets, not committed)"
  return 0
}

load_env() {  # var/pier.env's settings and secrets, exported
  # shellcheck disable=SC1090
  [ -f "$envfile" ] && { set -a; . "$envfile"; set +a; }
  return 0
}

wait_for() {  # wait_for <what> <seconds> <command...>
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "$what did not come up in ${seconds}s; see $var/log" >&2
  return 1
}

start_postgres() {
  # Database backups: scripts/database creates or starts the cluster with its WAL archived to object storage
  # (pgBackRest), and restores an empty data directory from there first; it refuses to initialize an empty
  # one over a store it cannot read. See docs/backups.md.
  (cd "$top" && "$top/scripts/with-env" python scripts/database start)
  wait_for PostgreSQL 30 pg_isready -q -h 127.0.0.1
}

start_redis() {
  redis-cli -h 127.0.0.1 ping 2>/dev/null | grep -q PONG && return 0
  # AOF: queued jobs, endpoints and logs survive a Redis restart (the platform rebuilds what it lost anyway)
  mkdir -p "$var/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly yes --appendfsync everysec \
    --logfile "$var/log/redis.log" --dir "$var/redis"
  wait_for Redis 15 redis-cli -h 127.0.0.1 ping
}

start_docker() {
  docker info >/dev/null 2>&1 && return 0
  nohup dockerd >"$var/log/dockerd.log" 2>&1 &
  wait_for "The Docker engine" 60 docker info
}

registry_credentials() {
  # The registry answers only to the platform's own credentials (tenants' builds and apps have none). The
  # registry is the machine's, so its password file is too: each set-up writes its var/pier.env password
  # there (distribution re-reads the file when it changes), as `database` does for PostgreSQL's role.
  # The registry checks the password on every request (each layer, each manifest): bcrypt's lowest cost keeps
  # that at a millisecond instead of ~70 ms at the default cost 10, and costs nothing here, since the password
  # is a generated random secret (var/pier.env), not one a person could pick and an attacker guess.
  mkdir -p "$(dirname "$registry_htpasswd")"
  (umask 077; "$top/.venv/bin/python" -c 'import bcrypt, sys
print("pier:" + bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(rounds=4)).decode())' \
     "$PIER_REGISTRY_PASSWORD" > "$registry_htpasswd.new")
  mv "$registry_htpasswd.new" "$registry_htpasswd"
}

registry_login() {
  # The engine's own pushes and pulls (and an operator's docker push) use the credentials too. Once the registry
  # answers: a login that fails leaves the engine with an older password, and every push after it fails.
  local out
  if ! out=$(echo "$PIER_REGISTRY_PASSWORD" | docker login -u pier --password-stdin 127.0.0.1:5000 2>&1); then
    echo "$out" >&2
    echo "the Docker engine could not log in to the registry at 127.0.0.1:5000" >&2
    return 1
  fi
}

registry_status() {
  curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5000/v2/ 2>/dev/null || true
}

start_registry() {
  load_env  # operators put PIER_STORAGE and PIER_S3_* settings in var/pier.env
  case $(registry_status) in
    401) registry_credentials
         wait_for "The registry's new password" 15 registry_accepts_credentials
         registry_login
         return 0 ;;
    200) echo "the registry answers without credentials: restarting it with them"
         pkill -f "docker-registry serve" || true
         sleep 1 ;;
  esac
  mkdir -p "$var/registry/data"
  if [ "${PIER_STORAGE:-filesystem}" = s3 ]; then  # distribution does not create its bucket
    PYTHONPATH="$top" "$top/.venv/bin/python" -c 'import sys; from core.storage.s3 import S3Store
S3Store(*sys.argv[1:6], path_style=True).ensure_bucket()' "${PIER_S3_BUCKET:-pier}" "${PIER_S3_ENDPOINT:-}" \
      "${PIER_S3_REGION:-us-east-1}" "${PIER_S3_ACCESS_KEY:-}" "${PIER_S3_SECRET_KEY:-}"
  fi
  (umask 077; "$top/scripts/registry-config" 127.0.0.1:5000 "$var/registry/data" "$registry_htpasswd" \
     > "$var/registry/config.yml")
  registry_credentials
  # distribution's S3 driver panics on AWS_CA_BUNDLE (its HTTP transport cannot take one); Go reads the
  # same CAs from SSL_CERT_FILE and the system store.
  nohup env -u AWS_CA_BUNDLE docker-registry serve "$var/registry/config.yml" >"$var/log/registry.log" 2>&1 &
  wait_for "The registry" 15 registry_requires_credentials
  registry_login
}

registry_requires_credentials() {
  test "$(registry_status)" = 401
}

registry_accepts_credentials() {
  curl -fsS -o /dev/null -u "pier:$PIER_REGISTRY_PASSWORD" http://127.0.0.1:5000/v2/
}

images() {
  # Pier's base image: Debian bookworm with Python 3, made locally (no image is pulled from a hub).
  if ! docker image inspect pier/base:bookworm >/dev/null 2>&1; then
    echo "building pier/base:bookworm with mmdebstrap (about a minute, once)"
    mmdebstrap --quiet --variant=minbase --include=ca-certificates,python3 bookworm - http://deb.debian.org/debian |
      docker import --change 'CMD ["/bin/bash"]' - pier/base:bookworm >/dev/null
  fi
  # The stack image buildpack apps are built and run on, from a copy of stack/ plus the host's locally trusted
  # CAs (Debian keeps them in /usr/local/share/ca-certificates), so builds behind a TLS-inspecting proxy still
  # reach PyPI and git hosts. Its label holds a hash of that context and of the base image: editing a buildpack,
  # adding a CA or rebuilding the base rebuilds the stack.
  local context="$var/build/stack" log="$var/log/stack-build.log" hash built old
  rm -rf "$context"
  mkdir -p "$context"
  cp -a "$top/stack/." "$context/"
  if [ -d /usr/local/share/ca-certificates ]; then
    find /usr/local/share/ca-certificates -type f -name '*.crt' -exec cp {} "$context/local-ca/" \;
  fi
  hash=$( { docker image inspect -f '{{.Id}}' pier/base:bookworm
            cd "$context"
            find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
            find . -type f -perm -u+x | LC_ALL=C sort; } | sha256sum | cut -c1-32)
  built=$(docker image inspect -f '{{index .Config.Labels "io.pier.stack-hash"}}' pier/stack:bookworm \
            2>/dev/null || true)
  if [ "$built" = "$hash" ]; then
    push_stack
    return 0
  fi
  old=$(docker image inspect -f '{{.Id}}' pier/stack:bookworm 2>/dev/null || true)
  echo "building pier/stack:bookworm from stack/ (a minute or two the first time; log: $log)"
  if ! docker build --label "io.pier.stack-hash=$hash" -t pier/stack:bookworm "$context" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "building pier/stack:bookworm failed; the whole log is $log" >&2
    return 1
  fi
  # The replaced stack is ours to drop; it stays while app images still build on it.
  [ -n "$old" ] && docker image rm "$old" >/dev/null 2>&1 || true
  push_stack
}

push_stack() {
  # Buildpack apps' images are the stack plus a slug: with the stack's layers in the registry once, each app's
  # push mounts them from there instead of uploading the stack again (over a gigabyte) on its first push.
  local registry=${PIER_REGISTRY:-127.0.0.1:5000} id pushed
  load_env
  id=$(docker image inspect -f '{{.Id}}' pier/stack:bookworm)
  pushed=$(cat "$var/stack-pushed" 2>/dev/null || true)
  [ "$pushed" = "$registry $id" ] && curl -fsS -o /dev/null -u "pier:$PIER_REGISTRY_PASSWORD" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$registry/v2/pier/stack/manifests/bookworm" 2>/dev/null && return 0
  echo "pushing pier/stack:bookworm to $registry once (its layers are shared by every buildpack app)"
  docker tag pier/stack:bookworm "$registry/pier/stack:bookworm"
  if ! docker push -q "$registry/pier/stack:bookworm" >>"$var/log/stack-build.log" 2>&1; then
    tail -n 5 "$var/log/stack-build.log" >&2
    echo "pushing pier/stack:bookworm to $registry failed; the whole log is $var/log/stack-build.log" >&2
    return 1
  fi
  echo "$registry $id" > "$var/stack-pushed"
}

services() {
  start_postgres
  start_redis
  start_docker
  start_registry
}

database() {
  # shellcheck disable=SC1090
  . "$envfile"
  runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pier') THEN
    CREATE ROLE pier LOGIN CREATEDB PASSWORD '$PIER_DB_PASSWORD';
  ELSE
    ALTER ROLE pier LOGIN CREATEDB PASSWORD '$PIER_DB_PASSWORD';
  END IF;
END \$\$;
SQL
  for db in pier pier_test pier_bench pier_e2e; do
    runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
      runuser -u postgres -- createdb -O pier "$db"
  done
}

for step in "$@"; do "$step"; done
