#!/usr/bin/env bash
# Browser end-to-end tests of the web app (web/e2e/*.test.mjs) in headless
# Debian Chromium driven by playwright-core.
#
#   bash web/e2e/run.sh          against a real taskd: built from this checkout
#                                (go build ./cmd/taskd) and started by the tests on
#                                a free loopback port with a fresh TASKD_DATA_DIR
#   bash web/e2e/run.sh --mock   against e2e/mock-server.mjs (fast UI harness)
#   extra arguments go to `node --test`, e.g. --test-name-pattern="stale edit"
#
# Installs what it needs: Debian's chromium and a CJK font (apt-get update first,
# as root), the Node packages (npm ci, skipped while package-lock.json is unchanged).
# Exits non-zero when a test fails. Screenshots and the taskd log land in
# web/e2e/artifacts/ (gitignored).
set -euo pipefail

WEB=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$WEB"
export E2E_TARGET=taskd
args=()
for a in "$@"; do
  case $a in
    --mock) E2E_TARGET=mock ;;
    --taskd) E2E_TARGET=taskd ;;
    *) args+=("$a") ;;
  esac
done

apt_updated=""
apt_install() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "e2e: ERROR: need the Debian packages $*; install them as root: apt-get install -y $*" >&2
    exit 1
  fi
  if [[ -z $apt_updated ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
if [[ ! -x $CHROMIUM ]]; then
  echo "e2e: installing Debian's chromium"
  apt_install chromium
fi
if command -v fc-list >/dev/null && [[ -z $(fc-list :lang=ko 2>/dev/null | head -n 1) ]]; then
  echo "e2e: installing a Korean font for legible screenshots"
  apt_install fonts-noto-cjk
fi

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "e2e: ERROR: node and npm are needed" >&2
  exit 1
}
STAMP=node_modules/.taskd-web-install-stamp
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [[ ! -f $STAMP || $(<"$STAMP") != "$want" ]]; then
  echo "e2e: npm ci"
  npm ci --no-audit --no-fund --prefer-offline
  echo "$want" >"$STAMP"
fi

# The tests drive the committed build (embedded into taskd): it must match the sources.
node scripts/stamp.mjs --check

if [[ $E2E_TARGET == taskd ]]; then
  if [[ -x /usr/local/go/bin/go ]]; then export PATH=/usr/local/go/bin:$PATH; fi
  command -v go >/dev/null || {
    echo "e2e: ERROR: Go is needed to build taskd" >&2
    exit 1
  }
fi

rm -rf e2e/artifacts # screenshots and logs of this run only
echo "e2e: $("$CHROMIUM" --version 2>/dev/null || echo chromium); target: $E2E_TARGET"
exec node --test --test-concurrency=1 --test-timeout=300000 "${args[@]}" e2e/
