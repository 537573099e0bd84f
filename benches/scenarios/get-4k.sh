#!/usr/bin/env bash
# 4 KiB GETs against nginx serving the objects as static files and against IronBucket
# (SigV4, tenant check, policy and audit on), interleaved in one load generator run, with
# the CPU time of each server per request. The first argument picks IronBucket's backend:
# "memory" for the null-backend ceiling (default) or "fs" for the realistic case.
#
# Environment: RATE (requests/s, default 2000), DURATION (per phase, default 10s),
# REPETITIONS (default 3), CONNECTIONS (default 16).

source "$(dirname "$0")/lib.sh"

backend=${1:-memory}
rate=${RATE:-2000}
duration=${DURATION:-10s}
repetitions=${REPETITIONS:-3}
connections=${CONNECTIONS:-16}
workload=(--size 4KiB --keys 100 --bucket loadgen --prefix obj/)

build_binaries
"$LOADGEN" write-files --root "$WORK/www" "${workload[@]}" >&2
start_nginx "$WORK/www"
start_gateway "$backend"

command=("$LOADGEN" run
    --target "name=nginx,url=$NGINX_URL,pid=$NGINX_PID,prepare=no"
    --target "name=ironbucket,url=$GATEWAY_URL,pid=$GATEWAY_PID"
    --rate "$rate" --arrival poisson --duration "$duration" --warmup 2s
    --repetitions "$repetitions" --connections "$connections" --mix get=100
    "${workload[@]}" --allow-late --quiet --json "$WORK/get.json")
log "running: ${command[*]}"
"${command[@]}"
write_record "get-4k-$backend" "4 KiB GET at $rate/s, IronBucket $backend backend vs nginx" \
    "${command[*]}" "$WORK/get.json"
