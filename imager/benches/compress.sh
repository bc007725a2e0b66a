#!/usr/bin/env bash
# Compares factory-imager's output compression with upstream's CLI pipeline.
#
# Usage: imager/benches/compress.sh [SIZE_MIB]   (default 200)
#
# Builds the `compress_tool` bench binary (bench profile: release + debug
# info), generates a disk-image-like file (half zero runs, 30% random, 20%
# binaries/text from /usr), then for each format runs ours and the command
# upstream's post-processing runs, under /usr/bin/time -v, and prints wall
# time, peak RSS and output size with ratios (ours / CLI).
#
# CLI side, as in Talos's pkg/imager/profile/post.go:
#   xz      xz -0 -T0
#   zst     zstd -T0 -18
#   gz      pigz -6 --no-time   (gzip -6 -n if pigz is not installed)
#   tar.gz  tar --sparse ... disk.raw | pigz -6 --no-time, on a sparse copy
#   zst/j16 both with 16 MiB zstd jobs (ours: zstd_job_size; CLI: -B16M),
#           the memory knob (not an upstream setting)
# Peak RSS of a pipeline is that of its largest process (getrusage
# RUSAGE_CHILDREN), not the sum. Needs: xz-utils zstd gzip tar time (pigz).
set -euo pipefail

SIZE_MIB=${1:-200}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TIME=/usr/bin/time
for t in xz zstd gzip tar "$TIME"; do
    command -v "$t" >/dev/null || { echo "missing $t (Debian: xz-utils zstd gzip tar time)" >&2; exit 1; }
done
if command -v pigz >/dev/null; then GZ="pigz -6 --no-time"; else GZ="gzip -6 -n"; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/compress-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "building compress_tool (bench profile)..." >&2
BIN=$(cd "$ROOT" && cargo bench -p factory-imager --bench compress_tool --no-run \
    --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .target.name == "compress_tool")
           | .executable // empty' | tail -n1)
[ -x "$BIN" ] || { echo "could not find the compress_tool binary" >&2; exit 1; }

echo "generating ${SIZE_MIB} MiB input..." >&2
# Corpus: real binaries and text, as on a disk image's filesystems.
find /usr/bin /usr/share/doc -type f -size -4M 2>/dev/null | LC_ALL=C sort | head -n 4000 |
    xargs cat 2>/dev/null | head -c $((64 * 1024 * 1024)) >"$WORK/corpus" || true
"$BIN" gen "$WORK/input.raw" "$SIZE_MIB" "$WORK/corpus"
# A sparse copy, so that `tar --sparse` finds holes as it would on a real image.
mkdir -p "$WORK/sparse"
cp --sparse=always "$WORK/input.raw" "$WORK/sparse/disk.raw"
rm -f "$WORK/corpus"
sync

# measure NAME CMD...: runs CMD under /usr/bin/time -v; prints
# "wall_s rss_kib cpu_s" (cpu = user + system, steadier than wall time on a
# shared machine).
measure() {
    local log="$WORK/$1.time"
    shift
    "$TIME" -v -o "$log" "$@" >/dev/null
    local wall rss cpu
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$log")
    echo "$wall $rss $cpu"
}

printf '\ninput: %s MiB (%s bytes), %s CPUs, CLI gzip: %s\n\n' "$SIZE_MIB" \
    "$(stat -c %s "$WORK/input.raw")" "$(nproc)" "${GZ%% *}"
printf '%-7s | %7s %7s %5s | %7s %7s | %8s %8s %5s | %10s %10s %7s\n' format "ours s" "cli s" \
    "t o/c" "ours cpu" "cli cpu" "ours MiB" "cli MiB" "m o/c" "ours bytes" "cli bytes" "size o/c"
printf -- '--------+---------------------+-------------------+--------------------------+------------------------------\n'

for fmt in xz zst zst/j16 gz tar.gz; do
    ours_out="$WORK/ours.${fmt%/*}"
    cli_out="$WORK/cli.${fmt%/*}"
    case $fmt in
    tar.gz)
        read -r ow orss ocpu < <(measure ours "$BIN" compress "$fmt" "$WORK/sparse/disk.raw" "$ours_out")
        read -r cw crss ccpu < <(measure cli bash -c "tar -cf - -C '$WORK/sparse' --sparse --sort=name \
            --owner=0 --group=0 --numeric-owner --mtime=@0 disk.raw | $GZ > '$cli_out'")
        ;;
    zst/j16)
        read -r ow orss ocpu < <(measure ours "$BIN" compress zst "$WORK/input.raw" "$ours_out" 0 16)
        read -r cw crss ccpu < <(measure cli zstd -T0 -18 -B16M -q -f "$WORK/input.raw" -o "$cli_out")
        ;;
    *)
        read -r ow orss ocpu < <(measure ours "$BIN" compress "$fmt" "$WORK/input.raw" "$ours_out")
        case $fmt in
        xz) cli="xz -0 -T0 -c '$WORK/input.raw' > '$cli_out'" ;;
        zst) cli="zstd -T0 -18 -q -f '$WORK/input.raw' -o '$cli_out'" ;;
        gz) cli="$GZ -c '$WORK/input.raw' > '$cli_out'" ;;
        esac
        read -r cw crss ccpu < <(measure cli bash -c "$cli")
        ;;
    esac
    # Our output must be valid for the real tool.
    case $fmt in
    xz) xz -t "$ours_out" ;;
    zst*) zstd -q -t "$ours_out" ;;
    gz | tar.gz) gzip -t "$ours_out" ;;
    esac
    os=$(stat -c %s "$ours_out")
    cs=$(stat -c %s "$cli_out")
    awk -v f="$fmt" -v ow="$ow" -v cw="$cw" -v oc="$ocpu" -v cc="$ccpu" -v orss="$orss" \
        -v crss="$crss" -v os="$os" -v cs="$cs" \
        'BEGIN { printf "%-7s | %7.2f %7.2f %5.2f | %7.2f %7.2f | %8.1f %8.1f %5.2f | %10d %10d %7.4f\n",
                 f, ow, cw, ow / cw, oc, cc, orss / 1024, crss / 1024, orss / crss, os, cs, os / cs }'
    rm -f "$ours_out" "$cli_out"
done
echo
echo "t o/c < 1: ours faster; m o/c: peak RSS ratio; size o/c > 1: ours larger."
