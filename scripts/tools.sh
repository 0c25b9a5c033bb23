# shellcheck shell=bash
# Sourced by scripts/local-api, scripts/test and scripts/dynamodb-local.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
#
# Installs, once and idempotently, everything the local stack and the tests need into
# $REPO/.cache (override with REPO_CACHE=/some/dir, e.g. to try a fresh install):
#   .cache/venv  Python venv with scripts/requirements.txt (cargo-lambda, cfn-lint, schemathesis,
#                pytest, boto3, ...); re-installed whenever that file changes (hash stamp).
#   .cache/npm   the npm package amplify-dynamodb-simulator, which ships DynamoDB Local's jar.
#   .cache/clients-npm  the client step's npm tools (@hey-api/openapi-ts, typescript, Redocly and
#                Spectral CLIs), pinned by tests/clients/package-lock.json (`npm ci`); re-installed
#                whenever that file changes (hash stamp). CLIENTS_NPM_BIN is its bin directory.
# and checks that java (17+) and cargo are on PATH.
#
# Exports: REPO, CACHE_DIR, VENV, DDB_LOCAL_DIR, PATH (venv bin first, so `cargo lambda`,
# `cfn-lint`, `st`, `pytest` and `python` resolve to the venv).
# Defines helpers: log, die, free_port, port_is_free, http_up, wait_for_http, descendants,
# kill_tree, tools_chromium (installs Debian's chromium for the browser test; scripts/test calls it).
# Prints progress to stderr only when it has something to install; silent otherwise.
# Does not change the caller's shell options; returns non-zero on failure.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${REPO_CACHE:-$REPO/.cache}"
VENV="$CACHE_DIR/venv"
DDB_LOCAL_DIR="$CACHE_DIR/npm/node_modules/amplify-dynamodb-simulator/emulator"
CLIENTS_NPM_DIR="$CACHE_DIR/clients-npm"
CLIENTS_NPM_BIN="$CLIENTS_NPM_DIR/node_modules/.bin"
export REPO CACHE_DIR VENV DDB_LOCAL_DIR CLIENTS_NPM_DIR CLIENTS_NPM_BIN

log() { printf '%s\n' "[$(basename "$0")] $*" >&2; }
die() { log "error: $*"; exit 1; }

# A TCP port nobody listens on right now (the OS picks it; tiny race accepted).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# True when 127.0.0.1:$1 can be bound (nothing listens there).
port_is_free() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

# True when $1 answers HTTP at all (any status, 4xx/5xx included): the server is up.
http_up() {
  python3 - "$1" <<'PY' 2>/dev/null
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="GET"), timeout=5)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
PY
}

# wait_for_http URL SECONDS [PID]: poll until URL answers; give up after SECONDS or as soon
# as PID (the server we started) has died.
wait_for_http() {
  local url="$1" limit="$2" pid="${3:-}" start=$SECONDS
  while (( SECONDS - start < limit )); do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    http_up "$url" && return 0
    sleep 0.5
  done
  return 1
}

# All descendants of PID (children first found, then theirs), whatever their process group:
# cargo-lambda starts each function process in a group of its own.
descendants() {
  local pid kids
  kids="$(ps -eo pid=,ppid= 2>/dev/null | awk -v p="$1" '$2 == p { print $1 }')"
  for pid in $kids; do
    echo "$pid"
    descendants "$pid"
  done
}

# kill_tree PID: stop a process we started with `setsid` (so PID leads its own process group)
# and everything under it: TERM the group (PID gets to shut its children down cleanly), wait up
# to 10 s, then KILL whatever is left, descendants in other groups included. Safe on dead PIDs.
kill_tree() {
  local pid="$1" target i left
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  local -a kids
  mapfile -t kids < <(descendants "$pid")
  # Signal the group only if PID really leads one; otherwise just the process.
  if [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
    target="-$pid"
  else
    target="$pid"
  fi
  kill -TERM -- "$target" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    kill -0 -- "$target" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "$target" 2>/dev/null || true
  # Descendants that outlived their parent (e.g. it was KILLed before it could stop them).
  for left in "${kids[@]}"; do
    kill -KILL "$left" 2>/dev/null || true
  done
}

_tools_python() {
  # The venv needs 3.11+ (tomllib in tests/check_routes.py).
  local py
  for py in python3 python3.13 python3.12 python3.11; do
    if command -v "$py" >/dev/null 2>&1 &&
      "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  log "error: python 3.11 or newer is required"
  return 1
}

_tools_venv() {
  local req="$REPO/scripts/requirements.txt" stamp="$VENV/.requirements.sha256" want py
  [[ -f "$req" ]] || { log "error: $req is missing"; return 1; }
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  py="$(_tools_python)" || return 1
  mkdir -p "$CACHE_DIR"
  # A venv whose interpreter no longer runs (system Python replaced) is rebuilt from scratch.
  if [[ -e "$VENV/bin/python" ]] && ! "$VENV/bin/python" -c '' 2>/dev/null; then
    log "the venv in $VENV is broken: recreating it"
    rm -rf "$VENV"
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating Python venv in $VENV"
    "$py" -m venv "$VENV" || { log "error: '$py -m venv' failed (install python3-venv?)"; return 1; }
  fi
  log "installing Python tools from scripts/requirements.txt (log: $CACHE_DIR/pip.log)"
  # No --upgrade: keep what is installed when it still satisfies the file (no silent drift).
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check \
    -r "$req" >"$CACHE_DIR/pip.log" 2>&1; then
    tail -n 30 "$CACHE_DIR/pip.log" >&2
    log "error: pip install failed"
    return 1
  fi
  echo "$want" >"$stamp"
}

_tools_dynamodb_local() {
  [[ -f "$DDB_LOCAL_DIR/DynamoDBLocal.jar" ]] && return 0
  command -v npm >/dev/null 2>&1 || { log "error: npm is required to fetch DynamoDB Local"; return 1; }
  local dir="$CACHE_DIR/npm" tgz
  log "fetching DynamoDB Local (npm package amplify-dynamodb-simulator) into $dir"
  mkdir -p "$dir/node_modules"
  # Only the package's own tarball is needed (it carries emulator/DynamoDBLocal.jar): `npm pack`
  # fetches just that, instead of the ~280 JavaScript dependencies `npm install` would add.
  tgz="$(cd "$dir" && npm pack --silent 'amplify-dynamodb-simulator@^2' 2>>"$dir/npm.log" | tail -n 1)"
  if [[ -z "$tgz" || ! -f "$dir/$tgz" ]]; then
    tail -n 20 "$dir/npm.log" >&2
    log "error: npm pack amplify-dynamodb-simulator failed"
    return 1
  fi
  rm -rf "$dir/node_modules/amplify-dynamodb-simulator"
  mkdir -p "$dir/node_modules/amplify-dynamodb-simulator"
  if ! tar -xzf "$dir/$tgz" -C "$dir/node_modules/amplify-dynamodb-simulator" --strip-components=1; then
    log "error: could not unpack $tgz"
    return 1
  fi
  rm -f "$dir/$tgz"
  [[ -f "$DDB_LOCAL_DIR/DynamoDBLocal.jar" ]] ||
    { log "error: the package has no emulator/DynamoDBLocal.jar"; return 1; }
}

_tools_clients_npm() {
  local src="$REPO/tests/clients" dir="$CLIENTS_NPM_DIR" stamp want
  [[ -f "$src/package-lock.json" ]] || return 0
  stamp="$dir/.package-lock.sha256"
  want="$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$CLIENTS_NPM_BIN/tsc" ]]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { log "error: npm is required for the client step's tools"; return 1; }
  log "installing the client step's npm tools into $dir (log: $dir/npm.log)"
  mkdir -p "$dir" && cp "$src/package.json" "$src/package-lock.json" "$dir/" || return 1
  # --ignore-scripts: none of these tools needs an install script (one only reports telemetry).
  if ! (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts >"$dir/npm.log" 2>&1); then
    tail -n 20 "$dir/npm.log" >&2
    log "error: npm ci of tests/clients/package-lock.json failed"
    return 1
  fi
  echo "$want" >"$stamp"
}

# tools_chromium: Debian's chromium (/usr/bin/chromium, or $CHROMIUM), which the widget's browser
# test drives through Playwright (Playwright's own browser downloads are not used). Not part of
# what sourcing installs: only scripts/test needs it. When missing, installs the package with apt
# as root or through passwordless sudo (a fresh CI machine); otherwise says what to install.
tools_chromium() {
  local browser="${CHROMIUM:-/usr/bin/chromium}" sudo=() apt_log="$CACHE_DIR/apt-chromium.log"
  [[ -x "$browser" ]] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    log "error: $browser is missing and there is no apt-get: install Chromium and set CHROMIUM to it"
    return 1
  fi
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      log "error: $browser is missing: run 'sudo apt-get install chromium' (not root, no passwordless sudo)"
      return 1
    fi
  fi
  log "installing Debian's chromium package (log: $apt_log)"
  mkdir -p "$CACHE_DIR"
  if ! { "${sudo[@]}" apt-get update &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } \
    >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    log "error: apt-get install chromium failed"
    return 1
  fi
  [[ -x "$browser" ]] || { log "error: the chromium package installed no $browser"; return 1; }
}

_tools_check() {
  command -v cargo >/dev/null 2>&1 || { log "error: cargo is not on PATH (install rustup)"; return 1; }
  command -v java >/dev/null 2>&1 || { log "error: java (17 or newer) is required for DynamoDB Local"; return 1; }
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
  if [[ -n "$v" && "$v" -lt 17 ]]; then
    log "warning: java $v found; DynamoDB Local is tested with 17+"
  fi
}

_tools_ensure() {
  mkdir -p "$CACHE_DIR" || return 1
  _tools_check || return 1
  # Two scripts installing at once (e.g. local-api in one terminal, test in another) would
  # corrupt the venv: serialise the installers.
  if command -v flock >/dev/null 2>&1; then
    (
      flock -w 900 9 || { log "error: timed out waiting for $CACHE_DIR/.tools.lock"; exit 1; }
      _tools_venv && _tools_dynamodb_local && _tools_clients_npm
    ) 9>"$CACHE_DIR/.tools.lock" || return 1
  else
    _tools_venv && _tools_dynamodb_local && _tools_clients_npm || return 1
  fi
  case ":$PATH:" in
    *":$VENV/bin:"*) ;;
    *) PATH="$VENV/bin:$PATH" ;;
  esac
  export PATH
}

_tools_ensure || { log "error: tool installation failed"; return 1 2>/dev/null || exit 1; }
