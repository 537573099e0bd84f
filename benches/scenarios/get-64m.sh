#!/usr/bin/env bash
# Throughput of 64 MiB GETs from nginx and from IronBucket (fs backend by default, or the
# backend named by the first argument) in closed loop, with each server's CPU time. The
# servers' peak resident memory (VmHWM) shows whether objects are streamed or buffered whole.
#
# Environment: DURATION (per phase, default 10s), REPETITIONS (default 3), CONNECTIONS
# (default 2).

source "$(dirname "$0")/lib.sh"

backend=${1:-fs}
duration=${DURATION:-10s}
repetitions=${REPETITIONS:-3}
connections=${CONNECTIONS:-2}
workload=(--size 64MiB --keys 2 --bucket loadgen --prefix large/)

build_binaries
"$LOADGEN" write-files --root "$WORK/www" "${workload[@]}" >&2
start_nginx "$WORK/www"
start_gateway "$backend"

command=("$LOADGEN" run
    --target "name=nginx,url=$NGINX_URL,pid=$NGINX_PID,prepare=no"
    --target "name=ironbucket,url=$GATEWAY_URL,pid=$GATEWAY_PID"
    --duration "$duration" --warmup 2s --repetitions "$repetitions"
    --connections "$connections" --timeout 60s --mix get=100 "${workload[@]}"
    --quiet --json "$WORK/get.json")
log "running: ${command[*]}"
"${command[@]}"
write_record "get-64m-$backend" "64 MiB GET throughput and VmHWM, IronBucket $backend backend vs nginx" \
    "${command[*]}" "$WORK/get.json"
