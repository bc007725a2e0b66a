#!/usr/bin/env bash
# Serving benchmark: `image-factory serve` against nginx serving the same
# bytes as static files, on loopback, in one run.
#
#   standalone/benches/serve.sh
#
# Measures, with the same wrk threads/connections/duration for both servers
# (requests/s and p99 latency from `wrk --latency`):
#   pxe       GET  /pxe/<id>/<v>/metal-amd64           (cached iPXE script)
#   schematic POST /schematics                          (an existing schematic)
#   manifest  GET  /v2/installer/<id>/manifests/<digest> (after one pull)
# and the download throughput of a 500 MB stored blob
# (GET /v2/installer/<id>/blobs/sha256:<hex>, curl to /dev/null, BENCH_DOWNLOADS
# times each, nginx with `sendfile on`). Prints one table with ours/nginx.
#
# Both sides answer from memory once warm: the warm-up requests below fill
# image-factory's response cache (answers core marks Cacheable, replayed
# with a fresh X-Request-ID; see standalone/src/http/cache.rs), and nginx
# reads its files from the page cache with open_file_cache on (without it
# nginx opens, stats and closes the file on every request, a handicap no
# static-file deployment keeps). Same cores for everyone: wrk -t2, nginx
# `worker_processes auto` and image-factory's tokio runtime (one worker per
# core) all share the machine's cores, and only one server is measured at
# a time.
#
# nginx answers POST /schematics with the static file of our 201 body:
# its static module refuses POST with 405, and `error_page 405 =200 $uri`
# re-serves the same URI as GET with status 200, so the body bytes are ours.
#
# The 500 MB artifact: no synthetic-release artifact is that big, so the
# script writes 500 MB of random bytes into the factory's blob directory
# exactly as the store commits blobs (temporary file in the same directory,
# fsync, rename to blobs/sha256/<hex>) and downloads it through the registry
# blob route, which streams it through the same path as /image downloads
# (the first GET hashes it once; that GET is the warm-up). nginx serves a
# hard link to the very same file.
#
# Needs (Debian packages): wrk, nginx-light (or nginx), curl, jq, skopeo,
# docker-registry, openssl, coreutils. Installs nothing. Builds with cargo
# (CARGO_TARGET_DIR is honoured). Everything runs on 127.0.0.1 with free
# ports, state in a temp dir (BENCH_DIR, default mktemp under TMPDIR: it
# needs ~1.1 GB there), and every process it starts is stopped by PID.
#
# Knobs: BENCH_THREADS (2) BENCH_CONNECTIONS (32) BENCH_DURATION (10s)
# BENCH_DOWNLOADS (5) BENCH_BLOB_MB (500) BENCH_ROUNDS (1: with more, the
# order alternates and the median ratio per case is printed); BENCH_PREBUILT=1
# skips cargo and uses the release binaries already in CARGO_TARGET_DIR (and
# the cached synthetic layout when its generator was not built).
set -euo pipefail

threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-32}
duration=${BENCH_DURATION:-10s}
downloads=${BENCH_DOWNLOADS:-5}
blob_mb=${BENCH_BLOB_MB:-500}
rounds=${BENCH_ROUNDS:-1}
version=v1.12.4

die() { echo "serve.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || die "$1 not found (install the Debian package $2)"; }
need wrk wrk
need curl curl
need jq jq
need skopeo skopeo
need docker-registry docker-registry
need sha256sum coreutils
nginx_bin=$(command -v nginx || true)
[ -n "$nginx_bin" ] || { [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx; } ||
	die "nginx not found (install the Debian package nginx-light or nginx)"

root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/image-factory
work=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/servebench.XXXXXX")}
mkdir -p "$work"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	[ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
	SYNTHETIC_REGISTRY_STATE="$work/registry" "$root/tests/scripts/registry.sh" stop >/dev/null 2>&1 || true
	[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# Below Linux's ephemeral range (32768+): wrk, curl and the registry leave
# thousands of TIME-WAIT sockets there, and a port held by any of them
# cannot be bound. Any socket on the port (not only a listener) rules it out.
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 12000))
		ss -Htan "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return; }
	done
}

if [ -z "${BENCH_PREBUILT:-}" ]; then
	echo "== build (release)" >&2
	(cd "$root" && cargo build -q --release -p image-factory -p synthetic-release)
fi
bin=$target/release/image-factory
[ -x "$bin" ] || die "$bin is missing (unset BENCH_PREBUILT to build it)"

echo "== synthetic release in a loopback registry" >&2
if [ -x "$target/release/synthetic-release" ]; then
	"$root/tests/scripts/fetch-debian-inputs.sh" "$cache/debian" >/dev/null
	"$target/release/synthetic-release" --inputs "$cache/debian" --out "$cache/synthetic-layout" >/dev/null
fi
[ -f "$cache/synthetic-layout/index.json" ] || die "no synthetic release in $cache/synthetic-layout"
export SYNTHETIC_REGISTRY_STATE="$work/registry"
"$root/tests/scripts/registry.sh" start >/dev/null
registry=$("$root/tests/scripts/registry.sh" push "$cache/synthetic-layout" 2>/dev/null)

echo "== image-factory serve" >&2
port=$(free_port)
mport=$(free_port)
ours=http://127.0.0.1:$port
IF_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$mport" \
	--data-dir "$work/data" --upstream-registry "$registry" --upstream-insecure \
	>"$work/factory.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$ours/healthz" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$ours/healthz" || die "image-factory did not start: $(cat "$work/factory.log")"

echo "== warm the caches" >&2
schematic=$'customization:\n  extraKernelArgs:\n    - console=ttyS0\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/qemu-guest-agent\n'
printf '%s' "$schematic" >"$work/schematic.yaml"
static=$work/static
mkdir -p "$static"
curl -fsS --data-binary @"$work/schematic.yaml" -o "$static/schematics" "$ours/schematics"
id=$(jq -r .id "$static/schematics")
curl -fsS --data-binary @"$work/schematic.yaml" -o "$work/again.json" -w '%{http_code}' "$ours/schematics" |
	grep -qx 201 || die "re-posting the schematic did not answer 201"
cmp -s "$work/again.json" "$static/schematics" || die "re-posting answered other bytes"
pxe=/pxe/$id/$version/metal-amd64
mkdir -p "$static/pxe/$id/$version"
curl -fsS -o "$static$pxe" "$ours$pxe"
host=127.0.0.1:$port
skopeo copy -q --all --src-tls-verify=false "docker://$host/installer/$id:$version" "oci:$work/pulled:$version"
digest=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$host/installer/$id:$version" | sha256sum | cut -d' ' -f1)
manifest=/v2/installer/$id/manifests/$digest
mkdir -p "$static/v2/installer/$id/manifests" "$static/v2/installer/$id/blobs"
curl -fsS -H 'Accept: application/vnd.oci.image.index.v1+json' -o "$static$manifest" "$ours$manifest"
[ "sha256:$(sha256sum <"$static$manifest" | cut -d' ' -f1)" = "$digest" ] || die "manifest bytes differ from $digest"

# The big blob, committed as the store commits blobs.
blobs=$work/data/blobs/sha256
tmp=$blobs/.tmp-servebench
head -c "$((blob_mb * 1024 * 1024))" /dev/urandom >"$tmp"
sync "$tmp"
hex=$(sha256sum "$tmp" | cut -d' ' -f1)
mv "$tmp" "$blobs/$hex"
sync "$blobs"
blob=/v2/installer/$id/blobs/sha256:$hex
ln "$blobs/$hex" "$static$blob"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$ours$blob")
[ "$code" = 200 ] || die "the blob route answered $code for the stored blob"
for path in "$pxe" "$manifest"; do curl -fsS -o /dev/null "$ours$path"; done

echo "== nginx over the same bytes" >&2
# nginx's workers run as nobody when started as root.
chmod a+x "$work"
chmod -R a+rX "$static"
nport=$(free_port)
theirs=http://127.0.0.1:$nport
mkdir -p "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	open_file_cache max=1000 inactive=60s;
	open_file_cache_valid 60s;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_requests 1000000;
	keepalive_timeout 65;
	client_body_temp_path $work/nginx/tmp/body;
	proxy_temp_path $work/nginx/tmp/proxy;
	fastcgi_temp_path $work/nginx/tmp/fastcgi;
	uwsgi_temp_path $work/nginx/tmp/uwsgi;
	scgi_temp_path $work/nginx/tmp/scgi;
	types { }
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$nport;
		root $static;
		location /pxe/ { default_type "text/plain; charset=utf-8"; }
		location = /schematics {
			default_type application/json;
			error_page 405 =200 \$uri;
		}
		location /v2/ {
			location ~ /manifests/ { default_type application/vnd.oci.image.index.v1+json; }
		}
	}
}
EOF
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log"
for _ in $(seq 1 50); do [ -s "$work/nginx/nginx.pid" ] && break; sleep 0.1; done
[ -s "$work/nginx/nginx.pid" ] || die "nginx did not start: $(cat "$work/nginx/error.log")"

# Both must answer the same bytes before anything is measured.
check_same() {
	local a b
	a=$(curl -fsS "${@:2}" "$ours$1" | sha256sum)
	b=$(curl -fsS "${@:2}" "$theirs$1" | sha256sum)
	[ "$a" = "$b" ] || die "$1: nginx answers other bytes than image-factory"
}
check_same "$pxe"
check_same "$manifest"
check_same /schematics --data-binary @"$work/schematic.yaml"
[ "$(curl -fsS "$theirs$blob" | sha256sum | cut -d' ' -f1)" = "$hex" ] || die "nginx blob differs"

cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.body = [[$schematic]]
wrk.headers["Content-Type"] = "application/yaml"
EOF

# "requests/s p99_ms" of one wrk run.
measure() {
	local out
	out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@")
	echo "$out" >>"$work/wrk.log"
	if echo "$out" | grep -q 'Non-2xx'; then die "non-2xx answers: $out"; fi
	local rps p99
	rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	p99=$(echo "$out" | awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }')
	echo "$rps $p99"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

# Mean bytes/s over $downloads downloads.
download() {
	local total=0 speed
	for _ in $(seq 1 "$downloads"); do
		speed=$(curl -fsS -o /dev/null -w '%{speed_download}' "$1")
		total=$(awk -v a="$total" -v b="$speed" 'BEGIN { printf "%.0f", a + b }')
	done
	awk -v a="$total" -v n="$downloads" 'BEGIN { printf "%.0f", a / n }'
}

echo "== measure (load: $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$threads -c$connections -d$duration)" >&2
printf '%-10s %12s %12s %7s %10s %10s\n' case ours_rps nginx_rps ratio ours_p99 nginx_p99
: >"$work/ratios"
for round in $(seq 1 "$rounds"); do
	for case in pxe schematic manifest; do
		case $case in
		pxe) args=("$pxe") ;;
		schematic) args=(/schematics -s "$work/post.lua") ;;
		manifest) args=("$manifest") ;;
		esac
		# Who goes first alternates by round, so that a change of machine
		# load during a round does not always fall on the same server.
		if [ $((round % 2)) -eq 1 ]; then
			o=$(measure "$ours${args[0]}" "${args[@]:1}")
			n=$(measure "$theirs${args[0]}" "${args[@]:1}")
		else
			n=$(measure "$theirs${args[0]}" "${args[@]:1}")
			o=$(measure "$ours${args[0]}" "${args[@]:1}")
		fi
		read -r o_rps o_p99 <<<"$o"
		read -r n_rps n_p99 <<<"$n"
		r=$(ratio "$o_rps" "$n_rps")
		echo "$case $r" >>"$work/ratios"
		printf '%-10s %12.0f %12.0f %7.2f %8.2fms %8.2fms\n' "$case" "$o_rps" "$n_rps" \
			"$r" "$o_p99" "$n_p99"
	done
	o=$(download "$ours$blob")
	n=$(download "$theirs$blob")
	r=$(ratio "$o" "$n")
	echo "download $r" >>"$work/ratios"
	printf '%-10s %10.0fMB/s %10.0fMB/s %7.2f   (%d x %d MB, mean)\n' download \
		"$(ratio "$o" 1048576)" "$(ratio "$n" 1048576)" "$r" "$downloads" "$blob_mb"
	echo "-- round $round done (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done
# On a shared machine single runs swing with other load: the median ratio
# over the rounds is the figure to quote.
if [ "$rounds" -gt 1 ]; then
	for case in pxe schematic manifest download; do
		awk -v c="$case" '$1 == c { print $2 }' "$work/ratios" | sort -g |
			awk -v c="$case" '{ v[NR] = $1 } END {
				m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf "%-10s median ratio %.2f over %d rounds\n", c, m, NR }'
	done
fi
