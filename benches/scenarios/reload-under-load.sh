#!/usr/bin/env bash
# Policy reloads under steady load: 4 KiB GETs at a fixed rate against IronBucket (memory
# backend) while its policy table is swapped every RELOAD_EVERY seconds through the admin
# listener, alternating between two policy sets with different digests. Writes the load
# generator's one-second interval histograms, so a reload that stalls requests shows up as
# a p99 spike in the interval it happened, and fails if any request failed.
#
# Environment: RATE (requests/s, default 1000), DURATION (default 30s), RELOAD_EVERY
# (seconds, default 1).

source "$(dirname "$0")/lib.sh"

rate=${RATE:-1000}
duration=${DURATION:-30s}
reload_every=${RELOAD_EVERY:-1}

build_binaries
start_gateway memory
admin_url="http://$(sed -n '/^\[admin\]/,/^\[/s/^listen = "\(.*\)"/\1/p' "$WORK/gateway/ironbucket.toml")"
policies="$WORK/gateway/policies"

# The second set adds one policy that grants nothing new, so every swap changes the digest
# and leaves every decision as it was.
extra_policy='version: "1.0"
policies:
  - id: reload-probe
    name: reload probe
    description: Matches nothing the load generator sends
    effect: Deny
    principals:
      type: user
      values: [nobody]
    actions: [s3:DeleteBucket]
    resources: ["arn:aws:s3:::reload-probe"]
    audit: true'

reload_loop() {
    local swaps=0
    while kill -0 "$GATEWAY_PID" 2>/dev/null; do
        sleep "$reload_every"
        if ((swaps % 2 == 0)); then
            printf '%s\n' "$extra_policy" >"$policies/reload-probe.yaml"
        else
            rm -f "$policies/reload-probe.yaml"
        fi
        curl -sf -X POST "$admin_url/policy/reload" >/dev/null || log "reload request failed"
        swaps=$((swaps + 1))
        echo "$swaps" >"$WORK/swaps"
    done
}

command=("$LOADGEN" run
    --target "name=ironbucket,url=$GATEWAY_URL,pid=$GATEWAY_PID"
    --rate "$rate" --duration "$duration" --warmup 2s --connections 8 --mix get=100
    --size 4KiB --keys 100 --allow-late --quiet --json "$WORK/reload.json"
    --histogram-log "$WORK/reload.hlog" --assert 'all.error_rate<0.0001%')
log "running: ${command[*]}"
reload_loop &
reloader=$!
STARTED_PIDS+=("$reloader")
status=0
"${command[@]}" || status=$?
kill "$reloader" 2>/dev/null || true
log "policy swaps during the run: $(cat "$WORK/swaps" 2>/dev/null || echo 0)"
log "reloads counted by the gateway: $(curl -s "$admin_url/metrics" | grep '^ironbucket_policy_reloads_total')"
mkdir -p "$RESULTS"
cp "$WORK/reload.hlog" "$RESULTS/$(date -u +%Y-%m-%d)-reload-under-load.hlog" 2>/dev/null || true
write_record "reload-under-load" "4 KiB GET at $rate/s with a policy swap every ${reload_every}s" \
    "${command[*]}" "$WORK/reload.json"
exit "$status"
