#!/usr/bin/env bash
# DynamoDB Local (AWS's emulator, run with Java, no Docker), in memory, on a free port.
#
# Run it:     scripts/dynamodb-local.sh [PORT]
#             starts it in the foreground and prints the endpoint; Ctrl-C stops it.
# Source it:  source scripts/dynamodb-local.sh   (after scripts/tools.sh)
#             ddb_local_start [PORT]  starts it in the background, waits until it answers and
#                                     exports DDB_LOCAL_PID, DDB_LOCAL_PORT, DDB_LOCAL_ENDPOINT
#                                     (log: $CACHE_DIR/dynamodb-local-<port>.log)
#             ddb_local_stop          stops it (safe to call twice, or when nothing was started)
#
# Flags: -inMemory (nothing left on disk), -sharedDb (one database whatever the credentials and
# region of the client: the scripts and the Rust binaries use different dummy credentials),
# -disableTelemetry (no calls home from CI).

ddb_local_start() {
  local port="${1:-}"
  [[ -n "$port" ]] || port="$(free_port)"
  [[ -f "$DDB_LOCAL_DIR/DynamoDBLocal.jar" ]] || { log "error: no DynamoDB Local in $DDB_LOCAL_DIR"; return 1; }
  local logf="$CACHE_DIR/dynamodb-local-$port.log" # removed again by ddb_local_stop
  # Own session/process group, so Ctrl-C in the terminal reaches only our trap, which stops it.
  # cd into the emulator: DynamoDB Local looks for its native libraries relative to it.
  (cd "$DDB_LOCAL_DIR" && exec setsid java -Djava.library.path=./DynamoDBLocal_lib \
    -jar DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port "$port") \
    >"$logf" 2>&1 </dev/null &
  DDB_LOCAL_PID=$!
  DDB_LOCAL_PORT="$port"
  DDB_LOCAL_ENDPOINT="http://127.0.0.1:$port"
  DDB_LOCAL_LOG="$logf"
  export DDB_LOCAL_PID DDB_LOCAL_PORT DDB_LOCAL_ENDPOINT DDB_LOCAL_LOG
  # The JVM starts in a few seconds; 60 s covers a slow CI machine.
  if ! wait_for_http "$DDB_LOCAL_ENDPOINT" 60 "$DDB_LOCAL_PID"; then
    tail -n 20 "$logf" >&2
    log "error: DynamoDB Local did not answer on port $port within 60 s (log: $logf)"
    kill_tree "$DDB_LOCAL_PID"
    unset DDB_LOCAL_PID
    return 1
  fi
  log "DynamoDB Local is up at $DDB_LOCAL_ENDPOINT (pid $DDB_LOCAL_PID)"
}

ddb_local_stop() {
  if [[ -n "${DDB_LOCAL_PID:-}" ]]; then
    kill_tree "$DDB_LOCAL_PID"
    wait "$DDB_LOCAL_PID" 2>/dev/null || true
    unset DDB_LOCAL_PID
    # The log only matters while it runs (a failed start prints its tail).
    rm -f "${DDB_LOCAL_LOG:-}"
  fi
}

# Executed rather than sourced: run in the foreground until interrupted.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
  trap ddb_local_stop EXIT
  trap 'exit 130' INT TERM
  ddb_local_start "${1:-}"
  echo "DYNAMODB_ENDPOINT=$DDB_LOCAL_ENDPOINT   (Ctrl-C stops it)"
  wait "$DDB_LOCAL_PID"
fi
