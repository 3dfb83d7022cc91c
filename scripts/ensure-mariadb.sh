#!/usr/bin/env bash
# Make sure a MariaDB server answers on 127.0.0.1:3306 and lets root in over TCP
# with an empty password (the DSN the tests use: root@tcp(127.0.0.1:3306)/).
#
# On this project's machines (kind go-svc) MariaDB is installed and started
# before a session or CI run begins, so normally this only pings it. If it is
# not answering, this starts it the way the machine does
# (start-stop-daemon ... --exec /usr/sbin/mariadbd), installing the Debian
# package first if mariadbd is missing, and waits (bounded) until it answers.
# It never stops or restarts a running server: other people and tests use it.
#
# Environment: TASKD_MARIADB_TIMEOUT (seconds to wait, default 60).
set -euo pipefail

HOST=127.0.0.1
PORT=3306
TIMEOUT=${TASKD_MARIADB_TIMEOUT:-60}
MARIADBD=/usr/sbin/mariadbd

say() { echo "ensure-mariadb: $*" >&2; }
die() {
  echo "ensure-mariadb: ERROR: $*" >&2
  exit 1
}

client() {
  if command -v mariadb >/dev/null; then mariadb "$@"; else mysql "$@"; fi
}

# Server process answers at all (mysqladmin ping exits 0 even on "Access denied").
server_up() {
  mysqladmin --protocol=tcp -h"$HOST" -P"$PORT" -uroot --connect-timeout=2 ping >/dev/null 2>&1
}

# Root can log in over TCP without a password and run a query.
root_ok() {
  client --protocol=tcp -h"$HOST" -P"$PORT" -uroot --connect-timeout=2 -N -e 'SELECT 1' >/dev/null 2>&1
}

mysqld_option() { # prints the last value of a [mysqld] option from the config files, if any
  my_print_defaults --mysqld 2>/dev/null | sed -n "s/^--$1=//p" | tail -n 1
}

error_log_tail() {
  local f
  f=$(mysqld_option log-error || true)
  f=${f:-/var/log/mysql/error.log}
  if [[ -r $f ]]; then
    echo "----- last 30 lines of $f -----" >&2
    tail -n 30 "$f" >&2
    echo "-----" >&2
  fi
}

# A fresh Debian install lets root in only through the unix socket; give the
# tests the passwordless TCP root they expect. Only runs when TCP root fails.
fix_root_over_tcp() {
  say "server is up but root@$HOST cannot log in without a password; granting it over the unix socket"
  client -uroot --protocol=socket -e "
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS test;
    FLUSH PRIVILEGES;" ||
    die "could not log in as root over the unix socket to grant root@127.0.0.1"
}

start_server() {
  [[ $(id -u) -eq 0 ]] || die "MariaDB is not answering on $HOST:$PORT and starting it needs root"
  if [[ ! -x $MARIADBD ]]; then
    say "$MARIADBD missing: installing mariadb-server from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq mariadb-server mariadb-client >/dev/null
  fi
  local datadir logdir logfile
  datadir=$(mysqld_option datadir || true)
  datadir=${datadir:-/var/lib/mysql}
  logfile=$(mysqld_option log-error || true)
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld
  if [[ -n $logfile ]]; then
    logdir=$(dirname "$logfile")
    mkdir -p "$logdir"
    chown mysql:mysql "$logdir" || true
  fi
  if [[ ! -d $datadir/mysql ]]; then
    say "initialising the data directory $datadir"
    mariadb-install-db --user=mysql --datadir="$datadir" >/dev/null
  fi
  say "starting $MARIADBD"
  start-stop-daemon --start --oknodo --background --exec "$MARIADBD"
}

main() {
  if root_ok; then
    say "MariaDB answers on $HOST:$PORT"
    return 0
  fi
  if ! server_up; then
    start_server
    local deadline=$((SECONDS + TIMEOUT))
    until server_up; do
      if ((SECONDS >= deadline)); then
        error_log_tail
        die "MariaDB did not answer on $HOST:$PORT within ${TIMEOUT}s"
      fi
      sleep 0.5
    done
  fi
  root_ok || fix_root_over_tcp
  root_ok || die "root cannot log in to MariaDB on $HOST:$PORT without a password"
  say "MariaDB answers on $HOST:$PORT"
}

main "$@"
