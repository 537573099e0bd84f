#!/usr/bin/env bash
# Shared helpers of the benchmark scenarios: build the binaries, start IronBucket and nginx
# as child processes on free loopback ports, and write dated result records. Every server
# started here is stopped by the EXIT trap of the sourcing script.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RESULTS="$REPO/benches/results"
GATEWAY="$REPO/target/release/ironbucket"
LOADGEN="$REPO/target/release/ironbucket-loadgen"
# The quickstart's demo key of alice (tenant acme), who may create buckets and objects.
export AWS_ACCESS_KEY_ID=AKIAACMEALICE0000001
export AWS_SECRET_ACCESS_KEY=alice-demo-secret-key-do-not-use-0000001

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ironbucket-bench.XXXXXX")"
STARTED_PIDS=()

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ "${KEEP_WORK:-0}" != 1 ]]; then
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

log() {
    echo "[$(date +%H:%M:%S)] $*" >&2
}

build_binaries() {
    log "building ironbucket and ironbucket-loadgen (release)"
    (cd "$REPO" && cargo build --release --quiet -p ironbucket -p ironbucket-loadgen)
}

# Prints a TCP port that was free on 127.0.0.1 a moment ago.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something accepts connections on 127.0.0.1:$1, for at most 20 seconds.
wait_for_port() {
    local port=$1 attempt
    for attempt in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    log "nothing listens on 127.0.0.1:$port after 20 s"
    return 1
}

# start_gateway BACKEND: starts IronBucket with the quickstart configuration on free ports,
# with BACKEND "memory" (the null-backend ceiling) or "fs" (files under the work directory).
# Sets GATEWAY_PID and GATEWAY_URL.
start_gateway() {
    local backend=$1 dir="$WORK/gateway" port admin_port
    port=$(free_port)
    admin_port=$(free_port)
    rm -rf "$dir"
    cp -r "$REPO/deploy/quickstart" "$dir"
    sed -i \
        -e "s|^listen = \"127.0.0.1:9000\"|listen = \"127.0.0.1:$port\"|" \
        -e "s|^listen = \"127.0.0.1:9001\"|listen = \"127.0.0.1:$admin_port\"|" \
        -e "s|^backend = \"fs\"|backend = \"$backend\"|" \
        "$dir/ironbucket.toml"
    if [[ "$backend" == memory ]]; then
        sed -i -e '/^root = "data"$/d' "$dir/ironbucket.toml"
    fi
    "$GATEWAY" serve --config "$dir/ironbucket.toml" >"$dir/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    STARTED_PIDS+=("$GATEWAY_PID")
    GATEWAY_URL="http://127.0.0.1:$port"
    wait_for_port "$port"
    log "IronBucket ($backend backend) pid $GATEWAY_PID at $GATEWAY_URL"
}

# start_nginx ROOT: serves the files under ROOT with nginx from Debian's package, as one
# process (master_process off) so that /proc/PID/stat holds all of its CPU time. Installs
# nginx-light when nginx is missing. Sets NGINX_PID and NGINX_URL.
start_nginx() {
    local root=$1 dir="$WORK/nginx" port
    if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
        log "installing nginx-light"
        # A fresh machine has no package lists yet, so update them when the first try fails.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
    fi
    port=$(free_port)
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    default_type application/octet-stream;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $root;
    }
}
CONF
    /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/nginx.log" 2>&1 &
    NGINX_PID=$!
    STARTED_PIDS+=("$NGINX_PID")
    NGINX_URL="http://127.0.0.1:$port"
    wait_for_port "$port"
    log "nginx $(/usr/sbin/nginx -v 2>&1 | sed 's|.*/||') pid $NGINX_PID at $NGINX_URL"
}

# write_record NAME LABEL COMMAND JSON...: writes benches/results/DATE-NAME.json with the
# machine, the label, the command and the load generator's raw JSON reports.
write_record() {
    local name=$1 label=$2 command=$3
    shift 3
    local out
    out="$RESULTS/$(date -u +%Y-%m-%d)-$name.json"
    mkdir -p "$RESULTS"
    python3 - "$out" "$name" "$label" "$command" "$REPO" "$@" <<'PY'
import json, os, platform, subprocess, sys, datetime
out, name, label, command, repo, *reports = sys.argv[1:]
def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return None
commit = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
record = {
    "scenario": name,
    "label": label,
    "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "machine": {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "kernel": platform.release(),
        "memory_kib": int(open("/proc/meminfo").readline().split()[1]),
    },
    "git_commit": commit,
    "command": command,
    "reports": [json.load(open(path)) for path in reports],
}
with open(out, "w") as handle:
    json.dump(record, handle, indent=2)
    handle.write("\n")
print(out)
PY
}
