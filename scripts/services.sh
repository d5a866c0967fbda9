#!/usr/bin/env bash
# services.sh: make sure PostgreSQL and Redis answer on 127.0.0.1, starting
# them (and on a fresh Debian machine installing them) when they don't.
#
# Usage: scripts/services.sh [DBNAME...]
#   DBNAME...   databases to create if they are missing
#
# Environment:
#   PGPORT                     PostgreSQL port (default 5432)
#   REDIS_PORT                 Redis port (default 6379)
#   BREACHNOTICE_STATE_DIR     logs, lock, private cluster (default <repo>/.local);
#                              as root, when user postgres cannot enter it (a
#                              checkout under /root), the cluster goes to
#                              /var/lib/breachnotice/postgres-PORT instead
#   BREACHNOTICE_PRIVATE_PG=1  never use a Debian cluster; run a private one
#                              in $BREACHNOTICE_STATE_DIR/pgdata instead
#
# Prints one line per service; on failure, the reason and the tail of the log.
set -euo pipefail

readonly HOST=127.0.0.1
readonly PG_PORT=${PGPORT:-5432}
readonly REDIS_PORT=${REDIS_PORT:-6379}
REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO
readonly STATE_DIR=${BREACHNOTICE_STATE_DIR:-$REPO/.local}
readonly PRIVATE_PG=${BREACHNOTICE_PRIVATE_PG:-0}

APT_UPDATED=0   # apt-get update runs at most once per invocation
PG_INSTALLED=0  # set when this run installed PostgreSQL itself
LOCKED=0

# ---------------------------------------------------------------- helpers

say() { printf '%s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

die() {
  printf 'services.sh: error: %s\n' "$*" >&2
  exit 1
}

# show_log FILE: a failed start is only explained by the server's own log.
show_log() {
  [[ -s $1 ]] || return 0
  printf -- '--- last lines of %s ---\n' "$1" >&2
  tail -n 20 -- "$1" >&2 || true
  printf -- '---\n' >&2
}

# take_lock: serialise the "start it" part between concurrent runs. Every
# daemon we start is run with 9>&- so it does not inherit (and hold) the lock.
take_lock() {
  ((LOCKED)) && return 0
  have flock || return 0
  mkdir -p -- "$STATE_DIR"
  exec 9>>"$STATE_DIR/services.lock"
  flock -w 120 9 || die "another services.sh has held $STATE_DIR/services.lock for 2 minutes"
  LOCKED=1
}

# port_open PORT: bash's /dev/tcp needs no client tools; timeout guards
# against a connect that hangs instead of being refused.
port_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

# wait_until SECONDS CMD...: poll CMD every half second.
wait_until() {
  local tries=$(($1 * 2))
  shift
  while ((tries-- > 0)); do
    "$@" && return 0
    sleep 0.5
  done
  return 1
}

# install_packages LABEL PKG...: only root can install; anyone else is told
# what to install rather than being asked for a password.
install_packages() {
  local label=$1
  shift
  if ((EUID != 0)); then
    die "$label: not installed and not running as root; run 'sudo apt-get install -y $*' (or start $label on $HOST yourself), then re-run"
  fi
  have apt-get || die "$label: not installed and there is no apt-get; install $* yourself"
  mkdir -p -- "$STATE_DIR"
  local apt_log=$STATE_DIR/apt.log
  say "$label: installing $* with apt-get (log: $apt_log)"
  if ((!APT_UPDATED)); then
    apt-get update >>"$apt_log" 2>&1 9>&- ||
      { show_log "$apt_log"; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" \
    >>"$apt_log" 2>&1 9>&- ||
    { show_log "$apt_log"; die "apt-get install $* failed"; }
}

# ---------------------------------------------------------------- postgres

# pg_bindir: directory with initdb and pg_ctl. Debian keeps them out of PATH
# (in /usr/lib/postgresql/VERSION/bin), so fall back to the newest version.
pg_bindir() {
  local initdb dir
  if initdb=$(command -v initdb) && [[ -x ${initdb%/*}/pg_ctl ]]; then
    printf '%s\n' "${initdb%/*}"
    return 0
  fi
  dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [[ -x $dir/initdb && -x $dir/pg_ctl ]] || return 1
  printf '%s\n' "$dir"
}

# pg_tool NAME: a client tool from PATH, else from the server's bin dir.
pg_tool() {
  local dir
  if have "$1"; then
    command -v "$1"
  elif dir=$(pg_bindir) && [[ -x $dir/$1 ]]; then
    printf '%s\n' "$dir/$1"
  else
    return 1
  fi
}

# pg_ready: the port accepts connections and, when pg_isready exists, the
# server accepts sessions (an open port may still be "starting up").
pg_ready() {
  port_open "$PG_PORT" || return 1
  local isready
  isready=$(pg_tool pg_isready) || return 0
  "$isready" -q -h "$HOST" -p "$PG_PORT" -U postgres -t 2
}

# debian_cluster: "VERSION NAME STATUS LOGFILE" of the Debian cluster
# (pg_createcluster) configured for our port, if there is one.
debian_cluster() {
  have pg_lsclusters && have pg_ctlcluster || return 0
  pg_lsclusters --no-header 2>/dev/null |
    awk -v port="$PG_PORT" '$3 == port { print $1, $2, $4, $7; exit }'
}

# trust_localhost VERSION NAME: a cluster that apt-get just created only
# accepts passwords over TCP, and its postgres role has none; the tests
# connect as postgres without one (as on the dev/CI machines), so trust
# loopback. Only ever done to a cluster this very run installed.
trust_localhost() {
  local hba=/etc/postgresql/$1/$2/pg_hba.conf rules
  [[ -f $hba ]] || return 0
  grep -q 'breachnotice services.sh' "$hba" && return 0
  rules=$(cat -- "$hba")
  # Written in place (not mv) to keep the file's owner and mode.
  printf '%s\n' \
    '# breachnotice services.sh: trust loopback TCP for local dev/tests' \
    'host all all 127.0.0.1/32 trust' \
    'host all all ::1/128 trust' \
    "$rules" >"$hba"
  say "postgres: set trust auth for 127.0.0.1 and ::1 in $hba"
}

# start_debian_cluster VERSION NAME STATUS LOGFILE: there is no systemd on
# these machines, so pg_ctlcluster must not redirect to systemctl.
start_debian_cluster() {
  local ver=$1 name=$2 status=$3 log=${4:-} action=start
  if ((PG_INSTALLED)); then
    trust_localhost "$ver" "$name"
    # apt may have started it already (no policy-rc.d): then just reload.
    [[ $status == online ]] && action=reload
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" "$action" </dev/null >&2 9>&- ||
    { show_log "$log"; die "postgres: 'pg_ctlcluster $ver $name $action' failed"; }
  wait_until 30 pg_ready ||
    { show_log "$log"; die "postgres: cluster $ver/$name started but $HOST:$PG_PORT does not answer"; }
  say "postgres: started on $HOST:$PG_PORT (Debian cluster $ver/$name)"
}

# as_pg CMD...: initdb refuses to run as root, and the data directory must
# belong to the server's user; so as root run as "postgres" (runuser is in
# util-linux, which every Debian has; su is the fallback). cd / because
# postgres may not be allowed into the caller's directory.
as_pg() {
  if ((EUID != 0)); then
    "$@"
  elif have runuser; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
  fi
}

# PG_STATE_FALLBACKS: where a private cluster goes, as root, when the postgres user cannot
# enter the state dir (a checkout under /root, mode 700, is the usual case): a directory of
# its own per port under /var/lib, the home of services' data, else under /tmp as the last
# resort (a reboot may empty it). Every run picks the same one, so it finds its cluster again.
PG_STATE_FALLBACKS=("/var/lib/breachnotice/postgres-$PG_PORT" "/tmp/breachnotice-postgres-$PG_PORT")

# pg_reachable DIR: as root, make DIR (and its pgdata and log) belong to postgres and say
# whether postgres can use them: every parent directory must let it through.
pg_reachable() {
  local dir=$1
  mkdir -p -- "$dir/pgdata" || return 1
  : >>"$dir/postgres.log" || return 1
  chown postgres: -- "$dir/pgdata" "$dir/postgres.log" || return 1
  chmod 700 -- "$dir/pgdata"
  as_pg test -w "$dir/pgdata" -a -w "$dir/postgres.log" 2>/dev/null
}

# pg_state_dir: prints the directory that holds the private cluster (pgdata/) and its log:
# the state dir, or as root and if the postgres user cannot enter it, the first fallback it
# can.
pg_state_dir() {
  if ((EUID != 0)); then
    printf '%s\n' "$STATE_DIR"
    return 0
  fi
  local dir
  for dir in "$STATE_DIR" "${PG_STATE_FALLBACKS[@]}"; do
    if pg_reachable "$dir"; then
      printf '%s\n' "$dir"
      return 0
    fi
    # Leave nothing behind where the cluster could not go (an empty pgdata/ and log).
    rmdir -- "$dir/pgdata" 2>/dev/null || true
    [[ -s $dir/postgres.log ]] || rm -f -- "$dir/postgres.log"
  done
  return 1
}

# start_private_cluster: no Debian cluster for our port, so keep one in the state dir (or, if
# the postgres user cannot reach it, in a fallback: pg_state_dir), created on first use with
# trust auth and the machine's C.UTF-8.
start_private_cluster() {
  local bindir dir pgdata log where=""
  bindir=$(pg_bindir) || die "postgres: initdb/pg_ctl not found (install postgresql)"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 ||
      die "postgres: there is no 'postgres' user to run the server as (initdb refuses root)"
  fi
  dir=$(pg_state_dir) ||
    die "postgres: user postgres can enter none of $STATE_DIR, ${PG_STATE_FALLBACKS[*]}; set BREACHNOTICE_STATE_DIR to a directory it can reach"
  pgdata=$dir/pgdata log=$dir/postgres.log
  if [[ $dir != "$STATE_DIR" ]]; then
    where="; user postgres cannot enter $STATE_DIR, so the cluster lives here"
  fi
  mkdir -p -- "$pgdata"
  : >>"$log"
  if [[ ! -s $pgdata/PG_VERSION ]]; then
    say "postgres: creating a private cluster in $pgdata"
    as_pg "$bindir/initdb" -D "$pgdata" --auth=trust -U postgres -E UTF8 \
      --locale=C.UTF-8 >>"$log" 2>&1 9>&- ||
      { show_log "$log"; die "postgres: initdb -D $pgdata failed"; }
  fi
  as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$log" -w -t 30 \
    -o "-p $PG_PORT -k /tmp -c listen_addresses=$HOST" start </dev/null >/dev/null 9>&- ||
    { show_log "$log"; die "postgres: pg_ctl start -D $pgdata failed"; }
  wait_until 30 pg_ready ||
    { show_log "$log"; die "postgres: private cluster started but $HOST:$PG_PORT does not answer"; }
  say "postgres: started on $HOST:$PG_PORT (private cluster in $pgdata, log $log$where)"
  say "postgres: stop it with: $(((EUID == 0)) && printf 'runuser -u postgres -- ')$bindir/pg_ctl -D $pgdata stop"
}

ensure_postgres() {
  # An open port may be a server still starting (e.g. a concurrent run).
  if port_open "$PG_PORT"; then
    wait_until 30 pg_ready ||
      die "postgres: something listens on $HOST:$PG_PORT but pg_isready never succeeded"
    say "postgres: running on $HOST:$PG_PORT"
    return 0
  fi
  take_lock
  if pg_ready; then
    say "postgres: running on $HOST:$PG_PORT"
    return 0
  fi
  if ! pg_bindir >/dev/null; then
    install_packages postgres postgresql
    PG_INSTALLED=1
  fi
  local cluster=""
  [[ $PRIVATE_PG == 1 ]] || cluster=$(debian_cluster)
  if [[ -n $cluster ]]; then
    # shellcheck disable=SC2086 # "VERSION NAME STATUS LOGFILE", no spaces inside
    start_debian_cluster $cluster
  else
    start_private_cluster
  fi
}

# ---------------------------------------------------------------- redis

# redis_ping: Redis's first reply line to PING, without the CR.
redis_ping() {
  local reply
  # shellcheck disable=SC2016 # expanded by the inner bash
  reply=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 &&
    IFS= read -r line <&3 && printf "%s" "$line"' "$HOST" "$REDIS_PORT" 2>/dev/null) || return 1
  printf '%s' "${reply%$'\r'}"
}

redis_ok() { [[ $(redis_ping) == +PONG ]]; }

ensure_redis() {
  if redis_ok; then
    say "redis: running on $HOST:$REDIS_PORT"
    return 0
  fi
  if port_open "$REDIS_PORT"; then
    die "redis: something listens on $HOST:$REDIS_PORT but does not answer PING with +PONG (got: '$(redis_ping || true)')"
  fi
  take_lock
  if redis_ok; then
    say "redis: running on $HOST:$REDIS_PORT"
    return 0
  fi
  have redis-server || install_packages redis redis-server
  mkdir -p -- "$STATE_DIR"
  local log=$STATE_DIR/redis.log
  # Nothing is persisted: the tests treat Redis as a cache.
  redis-server --daemonize yes --bind "$HOST" --port "$REDIS_PORT" \
    --save "" --appendonly no --dir "$STATE_DIR" --logfile "$log" \
    --pidfile "$STATE_DIR/redis-$REDIS_PORT.pid" </dev/null >&2 9>&- ||
    { show_log "$log"; die "redis: redis-server failed to start"; }
  wait_until 10 redis_ok ||
    { show_log "$log"; die "redis: started but $HOST:$REDIS_PORT does not answer PING"; }
  say "redis: started on $HOST:$REDIS_PORT"
}

# ensure_redis_binary: the Sentinel and Cluster tests start redis-server
# processes of their own (a Sentinel is redis-server --sentinel, which is all
# Debian's redis-sentinel package adds), even when the shared Redis above runs
# elsewhere, e.g. in a container. Nothing else needs the binary, so without
# root those two tests skip rather than the run stopping.
ensure_redis_binary() {
  have redis-server && return 0
  if ((EUID != 0)) || ! have apt-get; then
    say "redis: no redis-server here; the Sentinel and Cluster tests will skip (apt-get install redis-server redis-sentinel)"
    return 0
  fi
  take_lock
  have redis-server || install_packages "redis (Sentinel and Cluster tests)" redis-server redis-sentinel
}

# ---------------------------------------------------------------- databases

# db_exists NAME: psql -w never prompts for a password (CI has no stdin).
db_exists() {
  local out
  out=$("$PSQL" -X -w -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -tAc \
    "select 1 from pg_database where datname = '$1'" 2>&1) ||
    die "postgres: cannot query $HOST:$PG_PORT as user postgres without a password: $out"
  [[ $out == 1 ]]
}

ensure_databases() {
  (($# > 0)) || return 0
  PSQL=$(pg_tool psql) || die "postgres: psql not found (install postgresql-client)"
  local createdb db
  createdb=$(pg_tool createdb) || die "postgres: createdb not found (install postgresql-client)"
  for db in "$@"; do
    # The name goes into SQL text, so keep it to plain identifiers.
    [[ $db =~ ^[A-Za-z_][A-Za-z0-9_-]*$ ]] || die "not a plain database name: '$db'"
    db_exists "$db" && continue
    take_lock
    db_exists "$db" && continue
    "$createdb" -w -h "$HOST" -p "$PG_PORT" -U postgres "$db" ||
      die "postgres: createdb $db failed"
    say "postgres: created database $db"
  done
}

main() {
  case ${1:-} in
  -h | --help)
    sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    return 0
    ;;
  esac
  ensure_postgres
  ensure_redis
  ensure_redis_binary
  ensure_databases "$@"
}

main "$@"
