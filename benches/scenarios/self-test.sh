#!/usr/bin/env bash
# The load generator's own ceiling and schedule accuracy against its null server, written
# as a result record, so that every other figure can be read against what the tool itself
# costs on the same machine.
#
# Environment: DURATION (per phase, default 5s), RATE (accuracy phase, default half the
# ceiling, at most 10000/s).

source "$(dirname "$0")/lib.sh"

duration=${DURATION:-5s}

build_binaries
command=("$LOADGEN" self-test --duration "$duration" --json "$WORK/self-test.json")
if [[ -n "${RATE:-}" ]]; then
    command+=(--rate "$RATE")
fi
log "running: ${command[*]}"
status=0
"${command[@]}" || status=$?
write_record self-test "load generator ceiling and accuracy against its null server" \
    "${command[*]}" "$WORK/self-test.json"
exit "$status"
