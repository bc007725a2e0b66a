#!/usr/bin/env bash
# Compares our initramfs-with-extensions build with the reference pipeline
# Talos's imager runs (upstream-imager.md §3), on inputs of realistic size.
#
# Usage: imager/benches/initramfs.sh [CACHE_DIR]
#   (default ${XDG_CACHE_HOME:-~/.cache}/image-factory/initramfs-bench)
#
# Inputs, generated once into CACHE_DIR/inputs, deterministically from this
# machine's files (sorted listings, fixed modes and mtimes):
#   ext0 gpu-drivers  ~40 MiB of kernel modules (.ko) from the synthetic
#                     release's Debian kernel cache, else shared libraries
#   ext1 libs         ~35 MiB of /usr/lib/x86_64-linux-gnu
#   ext2 tools        ~20 MiB of /usr/bin
#   ext3 docs         ~12 MiB of text (/usr/share/doc, perl, python)
#   schematic-a/-b    the factory's tiny schematic extension, two IDs
#   base.zst          a small base initramfs (cpio of /init + rootfs.sqsh, zstd -18)
# Modules are placed outside /usr/lib/modules so neither side runs depmod.
#
# Runs, each under /usr/bin/time -v (wall time, peak RSS of the largest
# process, output size):
#   pipeline   mksquashfs per extension (-comp zstd -Xcompression-level 18
#              -all-root -noappend -no-progress -no-xattrs), extensions.yaml,
#              cpio -H newc --reproducible -R +0:+0 | zstd -T0 -18, appended
#              to the base (what upstream runs for every schematic)
#   ours cold  fresh segment cache, schematic A
#   ours warm  same extensions, schematic B, segment cache from the cold run
#   ours none  no segment cache at all (schematic A)
# and checks that our output and the pipeline's unpack to the same tree
# (file names, modes, and the squashfs contents via unsquashfs -lls).
# Wall times depend on what else the machine runs (the load average is
# printed); CPU times (user + system) are steadier.
# Needs: squashfs-tools cpio zstd tar time jq (Debian packages).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/image-factory/initramfs-bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TIME=/usr/bin/time
for t in mksquashfs unsquashfs cpio zstd tar jq "$TIME"; do
    command -v "$t" >/dev/null ||
        { echo "missing $t (Debian: squashfs-tools cpio zstd tar jq time)" >&2; exit 1; }
done

IN=$CACHE/inputs
MODULES_SRC=$HOME/.cache/image-factory/debian/root/lib/modules

# take DEST BUDGET_BYTES PREFIX SOURCES...: copies regular files (sorted,
# < 8 MiB each) from SOURCES into DEST/rootfs/PREFIX until BUDGET is reached.
take() {
    local dest=$1 budget=$2 prefix=$3
    shift 3
    local total=0 f size rel
    while IFS= read -r f; do
        size=$(stat -c %s "$f")
        [ $((total + size)) -gt "$budget" ] && break
        rel=${f#/}
        mkdir -p "$dest/rootfs/$prefix/$(dirname "$rel")"
        cp "$f" "$dest/rootfs/$prefix/$rel"
        total=$((total + size))
    done < <(find "$@" -type f -size -8M 2>/dev/null | LC_ALL=C sort)
}

manifest() { # DIR NAME VERSION
    cat >"$1/manifest.yaml" <<YAML
version: v1alpha1
metadata:
    name: $2
    version: $3
    author: initramfs bench
    description: Generated benchmark extension $2.
    compatibility:
        talos:
            version: '>= v1.0.0'
YAML
}

normalize_and_tar() { # DIR
    find "$1" -type d -exec chmod 0755 {} +
    find "$1" -type f -exec chmod 0644 {} +
    find "$1" -exec touch -h -d @0 {} +
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
        -cf "$1.tar" -C "$1" manifest.yaml rootfs
}

if [ ! -f "$IN/done" ]; then
    echo "generating inputs in $IN ..." >&2
    rm -rf "$IN"
    mkdir -p "$IN"
    M=$((1024 * 1024))
    mkdir -p "$IN/ext0"
    if [ -d "$MODULES_SRC" ]; then
        take "$IN/ext0" $((40 * M)) usr/local/lib/gpu "$MODULES_SRC"
    else
        take "$IN/ext0" $((40 * M)) usr/local/lib/gpu /usr/lib/x86_64-linux-gnu/perl-base /usr/libexec /usr/lib/gcc
    fi
    mkdir -p "$IN/ext1" "$IN/ext2" "$IN/ext3"
    take "$IN/ext1" $((35 * M)) usr/local/lib/libs /usr/lib/x86_64-linux-gnu
    take "$IN/ext2" $((20 * M)) usr/local/bin /usr/bin
    take "$IN/ext3" $((12 * M)) usr/local/share /usr/share/doc /usr/share/perl /usr/lib/python3
    manifest "$IN/ext0" gpu-drivers 1.0.0
    manifest "$IN/ext1" libs 1.0.0
    manifest "$IN/ext2" tools 1.0.0
    manifest "$IN/ext3" docs 1.0.0
    for s in a b; do
        id=$(printf 'schematic-%s' "$s" | sha256sum | cut -c1-64)
        mkdir -p "$IN/schematic-$s/rootfs/usr/local/share/schematic"
        : >"$IN/schematic-$s/rootfs/usr/local/share/schematic/$id"
        manifest "$IN/schematic-$s" schematic "$id"
    done
    for d in ext0 ext1 ext2 ext3 schematic-a schematic-b; do normalize_and_tar "$IN/$d"; done
    # The base initramfs: /init and a small rootfs.sqsh, as upstream's Dockerfile makes it.
    mkdir -p "$IN/base/root/usr/bin"
    cp /bin/busybox "$IN/base/root/usr/bin/" 2>/dev/null || cp /usr/bin/env "$IN/base/root/usr/bin/"
    printf '#!/bin/sh\necho bench\n' >"$IN/base/init"
    chmod 0755 "$IN/base/init"
    mksquashfs "$IN/base/root" "$IN/base/rootfs.sqsh" -comp zstd -Xcompression-level 18 \
        -all-root -noappend -no-progress -quiet >/dev/null
    (cd "$IN/base" && printf 'init\nrootfs.sqsh\n' |
        cpio -H newc --create --reproducible --quiet -R +0:+0 | zstd -T0 -18 -q -c) >"$IN/base.zst"
    touch "$IN/done"
fi

echo "building initramfs_tool (bench profile)..." >&2
BIN=$(cd "$ROOT" && cargo bench -p factory-imager --bench initramfs_tool --no-run \
    --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .target.name == "initramfs_tool")
           | .executable // empty' | tail -n1)
[ -x "$BIN" ] || { echo "could not find the initramfs_tool binary" >&2; exit 1; }

WORK=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

measure() { # NAME CMD... -> "wall_s rss_kib cpu_s"
    local log="$WORK/$1.time"
    shift
    "$TIME" -v -o "$log" "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr" >&2; exit 1; }
    local wall rss cpu
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$log")
    echo "$wall $rss $cpu"
}

# The reference pipeline, as upstream's imager runs it (schematic A).
cat >"$WORK/pipeline.sh" <<'SH'
set -euo pipefail
IN=$1 T=$2 OUT=$3
mkdir -p "$T"
i=0
for d in ext0 ext1 ext2 ext3 schematic-a; do
    mksquashfs "$IN/$d/rootfs" "$T/$i.sqsh" -comp zstd -Xcompression-level 18 \
        -all-root -noappend -no-progress -no-xattrs -quiet >/dev/null
    i=$((i + 1))
done
cp "$4" "$T/extensions.yaml"
cp "$IN/base.zst" "$OUT"
(cd "$T" && printf '%s\n' 0.sqsh 1.sqsh 2.sqsh 3.sqsh 4.sqsh extensions.yaml |
    cpio -H newc --create --reproducible --quiet -R +0:+0 | zstd -T0 -18 -c --quiet) >>"$OUT"
SH

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
LAYERS_A=("$IN/ext0.tar" "$IN/ext1.tar" "$IN/ext2.tar" "$IN/ext3.tar" "$IN/schematic-a.tar")
LAYERS_B=("$IN/ext0.tar" "$IN/ext1.tar" "$IN/ext2.tar" "$IN/ext3.tar" "$IN/schematic-b.tar")
sync

read -r cold_w cold_r cold_c < <(measure cold "$BIN" "$IN/base.zst" "$WORK/cold.img" "$WORK/segments" "${LAYERS_A[@]}")
read -r warm_w warm_r warm_c < <(measure warm "$BIN" "$IN/base.zst" "$WORK/warm.img" "$WORK/segments" "${LAYERS_B[@]}")
read -r none_w none_r none_c < <(measure none "$BIN" "$IN/base.zst" "$WORK/none.img" - "${LAYERS_A[@]}")

# Our extensions.yaml, so both outputs carry the same file.
unpack() { # IMG DIR: every segment after the base, unpacked with cpio
    mkdir -p "$2"
    local base_len
    base_len=$(stat -c %s "$IN/base.zst")
    tail -c +$((base_len + 1)) "$1" | zstd -d -q -c | (cd "$2" && cpio -idm --quiet --no-absolute-filenames)
}
unpack "$WORK/cold.img" "$WORK/tree-ours"
read -r pipe_w pipe_r pipe_c < <(measure pipeline bash "$WORK/pipeline.sh" "$IN" "$WORK/pipe-tmp" \
    "$WORK/pipeline.img" "$WORK/tree-ours/extensions.yaml")
unpack "$WORK/pipeline.img" "$WORK/tree-pipe"

# Same unpacked tree: names and modes, extensions.yaml bytes, squashfs listings.
(cd "$WORK/tree-ours" && find . -printf '%p %m\n' | LC_ALL=C sort) >"$WORK/list-ours"
(cd "$WORK/tree-pipe" && find . -printf '%p %m\n' | LC_ALL=C sort) >"$WORK/list-pipe"
diff "$WORK/list-ours" "$WORK/list-pipe" >&2 || { echo "unpacked trees differ" >&2; exit 1; }
cmp "$WORK/tree-ours/extensions.yaml" "$WORK/tree-pipe/extensions.yaml"
for i in 0 1 2 3 4; do
    for t in ours pipe; do
        unsquashfs -lls -d / "$WORK/tree-$t/$i.sqsh" | tail -n +4 |
            awk '{ $4 = ""; $5 = ""; print }' >"$WORK/sq-$t"
    done
    diff "$WORK/sq-ours" "$WORK/sq-pipe" >&2 || { echo "$i.sqsh listings differ" >&2; exit 1; }
done
cmp "$WORK/cold.img" "$WORK/none.img" || { echo "cached and uncached outputs differ" >&2; exit 1; }
zstd -q -t "$WORK/cold.img" 2>/dev/null || true

ext_bytes=$(du -cb "$IN"/ext[0-3]/rootfs | tail -n1 | cut -f1)
ps=$(stat -c %s "$WORK/pipeline.img")
printf '\ninputs: 4 extensions, %s bytes of files (+ schematic extension), %s CPUs\n\n' \
    "$ext_bytes" "$(nproc)"
printf 'load average before the runs: %s\n\n' "$LOAD"
printf '%-22s | %7s %6s | %7s %6s | %8s | %12s | %7s\n' run "wall s" "x pipe" "cpu s" "x pipe" \
    "peak MiB" "output bytes" "size"
printf -- '-----------------------+----------------+----------------+----------+--------------+--------\n'
row() { # NAME WALL RSS CPU FILE
    local s
    s=$(stat -c %s "$5")
    awk -v n="$1" -v w="$2" -v pw="$pipe_w" -v r="$3" -v c="$4" -v pc="$pipe_c" -v s="$s" \
        -v ps="$ps" 'BEGIN { printf "%-22s | %7.2f %6.2f | %7.2f %6.2f | %8.1f | %12d | %+6.2f%%\n",
                 n, w, pw / w, c, pc / c, r / 1024, s, (s / ps - 1) * 100 }'
}
row "pipeline (upstream)" "$pipe_w" "$pipe_r" "$pipe_c" "$WORK/pipeline.img"
row "ours, cold cache" "$cold_w" "$cold_r" "$cold_c" "$WORK/cold.img"
row "ours, 2nd schematic" "$warm_w" "$warm_r" "$warm_c" "$WORK/warm.img"
row "ours, no cache" "$none_w" "$none_r" "$none_c" "$WORK/none.img"
echo
echo "x pipe: the pipeline's time / this run's (higher is faster); cpu = user + system"
echo "(steadier than wall time on a shared machine); size: vs the pipeline's output."
