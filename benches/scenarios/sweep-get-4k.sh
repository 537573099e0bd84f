#!/usr/bin/env bash
# Latency versus load for 4 KiB GETs. Finds the saturation rate of nginx and of IronBucket
# (memory backend by default, or the backend named by the first argument) in closed loop,
# then measures p50 to p99.9 at 10, 25, 50, 75 and 90 % of it. The plot is written as SVG
# next to the result record.
#
# Environment: DURATION (per level, default 10s), CONNECTIONS (default 16).

source "$(dirname "$0")/lib.sh"

backend=${1:-memory}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-16}
workload=(--size 4KiB --keys 100 --bucket loadgen --prefix obj/)
svg="$RESULTS/$(date -u +%Y-%m-%d)-sweep-get-4k-$backend.svg"

build_binaries
"$LOADGEN" write-files --root "$WORK/www" "${workload[@]}" >&2
start_nginx "$WORK/www"
start_gateway "$backend"

command=("$LOADGEN" sweep
    --target "name=nginx,url=$NGINX_URL,pid=$NGINX_PID,prepare=no"
    --target "name=ironbucket,url=$GATEWAY_URL,pid=$GATEWAY_PID"
    --saturation-duration "$duration" --duration "$duration" --warmup 2s
    --connections "$connections" --mix get=100 "${workload[@]}"
    --allow-late --quiet --json "$WORK/sweep.json" --svg "$svg")
log "running: ${command[*]}"
"${command[@]}"
write_record "sweep-get-4k-$backend" "4 KiB GET latency versus rate, IronBucket $backend backend vs nginx" \
    "${command[*]}" "$WORK/sweep.json"
