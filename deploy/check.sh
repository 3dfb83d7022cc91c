#!/usr/bin/env bash
# shellcheck disable=SC2317 # the check functions are called through step
# Offline checks of every deployment artefact: bash deploy/check.sh
#
#   artefact          checked by
#   names             go test ./deploy/names (names.json, the one source of AWS names)
#   metrics           go test ./adapters/prometheus (what the binary exports)
#   aws-cdk           tsc + node --test in deploy/aws (synthesises both stacks offline), then
#                     the pinned CDK CLI (used by release.yml) must read the cloud assembly
#   aws-names         deploy/checks/aws: the synthesised template vs the Go names package
#   dockerfile        deploy/checks/docker: BuildKit's parser and linter (docker build --check),
#                     .dockerignore with moby's matcher, and the Dockerfile's own go build step
#   compose           deploy/checks/compose: compose-go (docker compose's loader)
#   kubernetes        deploy/checks/k8s: kustomize (krusty) + strict decoding with k8s.io/api
#   prometheus        promtool check config / check rules / test rules, and
#                     deploy/checks/monitoring: rules vs exported metrics and deploy/alarms.json
#   grafana           deploy/checks/monitoring: every panel's PromQL vs exported metrics
#   github-actions    actionlint (+ shellcheck) and deploy/checks/workflows (OIDC, approval policy)
#   check-script      shellcheck of this file
#
# Installs what it needs, idempotently, and caches it: actionlint and promtool
# in deploy/.bin (promtool from Debian's "prometheus" package, unpacked, so no
# Prometheus server gets installed or started), shellcheck from Debian,
# deploy/aws/node_modules (npm ci only when package-lock.json changed).
# Prints PASS/FAIL per artefact and the time of each step; exits non-zero if
# anything failed. Environment: TASKD_CHECK_SHORT=1 skips building the binary
# in the Dockerfile check (local convenience; CI runs everything).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BIN=$HERE/.bin
ACTIONLINT_VERSION=v1.7.12
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

if [[ -x /usr/local/go/bin/go ]]; then export PATH=/usr/local/go/bin:$PATH; fi
export PATH=$BIN:$PATH
export GOFLAGS=${GOFLAGS:-}
unset GOWORK

START=$(date +%s.%N)
NAMES=() RESULTS=() TIMES=()
FAILED=0

elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

# step NAME COMMAND...: runs COMMAND with its output in a log; prints the log
# when it fails.
step() {
  local name=$1 t0 rc log=$LOGS/$1.log
  shift
  t0=$(date +%s.%N)
  printf '%-16s ' "$name"
  # A subshell: the checks may cd and set -e without affecting this script.
  ("$@") >"$log" 2>&1
  rc=$?
  local t
  t=$(elapsed "$t0")
  NAMES+=("$name") TIMES+=("$t")
  if ((rc == 0)); then
    RESULTS+=(PASS)
    printf 'PASS  %6ss\n' "$t"
    [[ $name == install ]] && tail -n 1 "$log" | sed 's/^/                   /'
    grep -E -- '--- SKIP|^ok .*\[no tests to run\]' "$log" | sed 's/^/                   /' || true
  else
    RESULTS+=(FAIL)
    FAILED=1
    printf 'FAIL  %6ss\n' "$t"
    echo "------------------------------------------------------------ $name (last 150 lines)"
    tail -n 150 "$log"
    echo "------------------------------------------------------------"
  fi
  return 0
}

need_root() {
  [[ $(id -u) -eq 0 ]] || { echo "check.sh: need root to install $* (apt-get install -y $*)" >&2; return 1; }
}

APT_UPDATED=""
apt_update_once() {
  if [[ -z $APT_UPDATED ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    APT_UPDATED=1
  fi
}

# ---------------------------------------------------------------- installs
install_tools() {
  set -e
  mkdir -p "$BIN"
  command -v go >/dev/null || { echo "Go not found (expected /usr/local/go/bin/go)"; return 1; }
  command -v npm >/dev/null || { echo "npm not found"; return 1; }

  # actionlint, built from the Go module proxy into deploy/.bin.
  if [[ ! -x $BIN/actionlint ]] || [[ $("$BIN/actionlint" -version | head -n 1) != "$ACTIONLINT_VERSION" ]]; then
    echo "installing actionlint $ACTIONLINT_VERSION"
    GOBIN=$BIN GOFLAGS='' go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  fi

  # promtool: the one from PATH, else unpacked from Debian's package.
  if ! command -v promtool >/dev/null; then
    echo "installing promtool from Debian's prometheus package (unpacked into deploy/.bin)"
    need_root prometheus
    apt_update_once
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download prometheus >/dev/null && dpkg-deb -x prometheus_*.deb x)
    install -m 0755 "$tmp/x/usr/bin/promtool" "$BIN/promtool"
    rm -rf "$tmp"
  fi

  # ShellCheck: actionlint runs it on the run: scripts of the workflows.
  if ! command -v shellcheck >/dev/null; then
    echo "installing shellcheck"
    need_root shellcheck
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
  fi

  # The CDK app's packages, only when the lockfile changed.
  local stamp=$HERE/aws/node_modules/.taskd-install-stamp want
  want=$(cat "$HERE/aws/package.json" "$HERE/aws/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    echo "deploy/aws/node_modules is up to date"
  else
    (cd "$HERE/aws" && npm ci --no-audit --no-fund --prefer-offline)
    echo "$want" >"$stamp"
  fi

  (cd "$HERE/checks" && go mod download)
  echo "go $(go version | cut -d' ' -f3); node $(node --version); $(actionlint -version | head -n 1 | sed 's/^/actionlint /');" \
    "$(promtool --version 2>&1 | head -n 1); $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
}

# ---------------------------------------------------------------- checks
promtool_checks() {
  set -e
  cd "$HERE/prometheus"
  promtool check config prometheus.yml
  promtool check rules rules.yml
  promtool test rules rules_test.yml
  cd "$HERE/checks"
  go test -count=1 -run 'TestAlertRules|TestMonitoringChecksCatchDefects' -v ./monitoring
}

actionlint_checks() {
  set -e
  cd "$ROOT"
  actionlint -no-color .github/workflows/*.yml
  # The linter must reject a broken workflow (a job needing one that does not exist).
  local tmp
  tmp=$(mktemp -d)
  mkdir -p "$tmp/.github/workflows"
  sed 's/needs: image$/needs: imgae/' .github/workflows/release.yml >"$tmp/.github/workflows/release.yml"
  cp .github/workflows/ci.yml "$tmp/.github/workflows/"
  if (cd "$tmp" && actionlint -no-color .github/workflows/release.yml >/dev/null 2>&1); then
    echo "actionlint accepted a workflow with needs: imgae"
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$tmp"
  cd "$HERE/checks"
  go test -count=1 -v ./workflows
}

docker_checks() {
  cd "$HERE/checks" || return 1
  local short=()
  [[ ${TASKD_CHECK_SHORT:-0} == 1 ]] && short=(-short)
  go test -count=1 -v "${short[@]}" ./docker
}

echo "=== deploy/check.sh ($(date +%H:%M:%S))"
step install install_tools
if [[ ${RESULTS[0]} == FAIL ]]; then
  echo "check.sh: FAILED: could not install the tools"
  exit 1
fi
step names bash -c "cd '$ROOT' && go test -count=1 ./deploy/names"
step metrics bash -c "cd '$ROOT' && go test -count=1 ./adapters/prometheus"
step checks-vet bash -c "cd '$HERE/checks' && go vet ./... && test -z \"\$(gofmt -l .)\""
step aws-cdk bash -c "cd '$HERE/aws' && npm test"
step aws-names bash -c "cd '$HERE/checks' && TASKD_REQUIRE_CDK_TEMPLATE=1 go test -count=1 -v ./aws"
step dockerfile docker_checks
step compose bash -c "cd '$HERE/checks' && go test -count=1 -v ./compose"
step kubernetes bash -c "cd '$HERE/checks' && go test -count=1 -v ./k8s"
step prometheus promtool_checks
step grafana bash -c "cd '$HERE/checks' && go test -count=1 -v -run 'TestGrafanaDashboards|TestMonitoringChecksCatchDefects' ./monitoring"
step github-actions actionlint_checks
step check-script shellcheck "$HERE/check.sh"

echo
echo "=== summary"
for i in "${!NAMES[@]}"; do
  printf '    %-16s %s %7ss\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
done
printf '    %-16s      %7ss\n' total "$(elapsed "$START")"
passed=0
for r in "${RESULTS[@]}"; do [[ $r == PASS ]] && passed=$((passed + 1)); done
echo "deploy: ${passed} passed, $(( ${#RESULTS[@]} - passed )) failed"
exit "$FAILED"
