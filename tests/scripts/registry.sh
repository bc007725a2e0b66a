#!/usr/bin/env bash
# A throwaway OCI registry on loopback for the synthetic Talos release.
#
#   registry.sh start           start Debian's docker-registry on 127.0.0.1:<free port>
#   registry.sh stop            stop it (by recorded PID)
#   registry.sh push LAYOUT     push every tagged image of an OCI layout into it
#   registry.sh address         print 127.0.0.1:<port> if running
#
# Every command is idempotent and prints the registry address on stdout.
# State (config, storage, PID, port, log) lives in $SYNTHETIC_REGISTRY_STATE,
# default ${XDG_CACHE_HOME:-$HOME/.cache}/image-factory/registry; give each
# concurrent user its own state directory. The packaged config enables
# htpasswd auth, so a private config is written (no auth, no TLS, loopback).
#
# Needs: docker-registry, skopeo, curl, jq (Debian packages of those names).
set -euo pipefail

state=${SYNTHETIC_REGISTRY_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/image-factory/registry}

die() { echo "registry.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || die "$1 not found (install the Debian package $2)"; }

pid_alive() {
	[ -f "$state/registry.pid" ] && kill -0 "$(cat "$state/registry.pid")" 2>/dev/null
}

responds() {
	curl -fsS -o /dev/null --max-time 2 "http://$1/v2/" 2>/dev/null
}

address() {
	pid_alive && [ -f "$state/registry.addr" ] && responds "$(cat "$state/registry.addr")" &&
		cat "$state/registry.addr"
}

start() {
	need docker-registry docker-registry
	need curl curl
	if addr=$(address); then
		echo "$addr"
		return
	fi
	mkdir -p "$state/storage"
	rm -f "$state/registry.pid" "$state/registry.addr"
	for _ in $(seq 1 20); do
		port=$((20000 + RANDOM % 20000))
		if command -v ss >/dev/null && ss -Htln "sport = :$port" | grep -q .; then
			continue
		fi
		cat >"$state/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $state/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: synthetic-release-loopback-only
EOF
		setsid docker-registry serve "$state/config.yml" >>"$state/registry.log" 2>&1 </dev/null &
		pid=$!
		for _ in $(seq 1 50); do
			if responds "127.0.0.1:$port"; then
				echo "$pid" >"$state/registry.pid"
				echo "127.0.0.1:$port" >"$state/registry.addr"
				echo "127.0.0.1:$port"
				return
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		# Did not come up on this port (taken, or slow to die): try another.
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	die "docker-registry did not start; see $state/registry.log"
}

stop() {
	if [ -f "$state/registry.pid" ]; then
		pid=$(cat "$state/registry.pid")
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid"
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
	fi
	addr=$(cat "$state/registry.addr" 2>/dev/null || true)
	rm -f "$state/registry.pid" "$state/registry.addr"
	echo "${addr:-stopped}"
}

push() {
	local layout=$1
	need skopeo skopeo
	need jq jq
	[ -f "$layout/index.json" ] || die "$layout is not an OCI layout (no index.json)"
	addr=$(address) || die "registry not running; run '$0 start' first"
	local refs
	refs=$(jq -r '.manifests[] | [.annotations["org.opencontainers.image.ref.name"] // "", .digest] | @tsv' \
		"$layout/index.json")
	local pushed=0 skipped=0
	while IFS=$'\t' read -r ref digest; do
		[ -n "$ref" ] || continue
		local repo=${ref%:*} tag=${ref##*:}
		# Already there with the same digest: nothing to do.
		local have
		have=$(curl -fsSI --max-time 10 \
			-H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' \
			"http://$addr/v2/$repo/manifests/$tag" 2>/dev/null |
			tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }') || true
		if [ "$have" = "$digest" ]; then
			skipped=$((skipped + 1))
			continue
		fi
		skopeo copy -q --all --preserve-digests --dest-tls-verify=false \
			"oci:$layout:$ref" "docker://$addr/$ref" >&2
		pushed=$((pushed + 1))
	done <<<"$refs"
	echo "registry.sh: pushed $pushed, already present $skipped" >&2
	echo "$addr"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
address) address || die "registry not running" ;;
push)
	[ $# -eq 2 ] || die "usage: $0 push LAYOUT_DIR"
	push "$(cd "$2" && pwd)"
	;;
*)
	echo "usage: $0 start|stop|address|push LAYOUT_DIR" >&2
	exit 2
	;;
esac
