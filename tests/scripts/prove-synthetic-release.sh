#!/usr/bin/env bash
# End-to-end proof of the synthetic Talos release:
#
#   1. fetch the Debian inputs and generate the OCI layout (both cached);
#   2. start a loopback docker-registry and push the layout into it;
#   3. check the registry with curl (tags list) and skopeo (every tag has the
#      layout's digest, indexes have linux/amd64 and linux/arm64), and verify
#      one cosign signature fetched from the registry with openssl;
#   4. pull each version's imager back from the registry and boot its amd64
#      kernel + initramfs in qemu, expecting
#      "SYNTHETIC-TALOS-BOOT version=<v> schematic=none extensions=";
#   5. boot again with an extensions cpio appended the way the factory does
#      (squashfs layers + extensions.yaml), expecting the schematic ID and
#      the extension names: proves /init implements the contract.
#
# Usage: prove-synthetic-release.sh [VERSION...]   (default: every version)
# Cache: $SYNTHETIC_RELEASE_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/image-factory)
# Needs (Debian packages): docker-registry skopeo curl jq qemu-system-x86
#   squashfs-tools cpio zstd xz-utils openssl, plus cargo.
set -euo pipefail
cd "$(dirname "$0")/../.."

cache=${SYNTHETIC_RELEASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/image-factory}
layout="$cache/synthetic-layout"
work=$(mktemp -d "${TMPDIR:-/tmp}/prove-synthetic.XXXXXX")
export SYNTHETIC_REGISTRY_STATE="$work/registry"

die() { echo "prove: FAIL: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null || die "$1 not found (install the Debian package $2)"; }
need qemu-system-x86_64 qemu-system-x86
need mksquashfs squashfs-tools
need cpio cpio
need zstd zstd
need xz xz-utils
need skopeo skopeo
need jq jq
need curl curl
need docker-registry docker-registry
need openssl openssl

cleanup() {
	tests/scripts/registry.sh stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

step "Debian inputs"
tests/scripts/fetch-debian-inputs.sh "$cache/debian" >/dev/null

step "generate the layout"
cargo run -q --release -p synthetic-release -- --inputs "$cache/debian" --out "$layout" >/dev/null
summary="$layout/synthetic-release.json"
if [ $# -gt 0 ]; then versions=("$@"); else mapfile -t versions < <(jq -r '.versions[]' "$summary"); fi

step "registry"
addr=$(tests/scripts/registry.sh start)
tests/scripts/registry.sh push "$layout" >/dev/null
echo "registry at $addr" >&2

step "check tags and digests"
tags=$(curl -fsS "http://$addr/v2/siderolabs/imager/tags/list")
for v in "${versions[@]}"; do
	jq -e --arg v "$v" '.tags | index($v)' <<<"$tags" >/dev/null || die "imager tag $v missing: $tags"
done
while IFS=$'\t' read -r ref digest; do
	got=$(skopeo inspect --raw --tls-verify=false "docker://$addr/$ref" | sha256sum | cut -d' ' -f1)
	[ "sha256:$got" = "$digest" ] || die "$ref: registry has sha256:$got, layout has $digest"
	case "$ref" in *.sig) continue ;; esac
	platforms=$(skopeo inspect --raw --tls-verify=false "docker://$addr/$ref" |
		jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | join(",")')
	[ "$platforms" = "linux/amd64,linux/arm64" ] || die "$ref: platforms $platforms"
done < <(jq -r '.images[] | [.ref, .digest] | @tsv' "$summary")
skopeo inspect --tls-verify=false "docker://$addr/siderolabs/imager:${versions[0]}" >/dev/null
echo "$(jq '.images | length' "$summary") images match" >&2

# The imager's cosign signature, as a verifier would fetch it.
digest=$(jq -r --arg r "siderolabs/imager:${versions[0]}" '.images[] | select(.ref == $r) | .digest' "$summary")
sig=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://$addr/v2/siderolabs/imager/manifests/sha256-${digest#sha256:}.sig")
curl -fsS "http://$addr/v2/siderolabs/imager/blobs/$(jq -r '.layers[0].digest' <<<"$sig")" >"$work/payload"
jq -r '.layers[0].annotations["dev.cosignproject.cosign/signature"]' <<<"$sig" | base64 -d >"$work/sig.der"
openssl dgst -sha256 -verify "$layout/cosign.pub" -signature "$work/sig.der" "$work/payload" >&2 ||
	die "cosign signature of imager:${versions[0]} does not verify"
jq -e --arg d "$digest" '.critical.image["docker-manifest-digest"] == $d' "$work/payload" >/dev/null ||
	die "signature payload names another digest"

# Pulls imager:<v> (amd64) from the registry and unpacks its layers.
pull_imager() {
	local v=$1 dir=$2
	skopeo copy -q --src-tls-verify=false --override-arch amd64 \
		"docker://$addr/siderolabs/imager:$v" "dir:$dir/image"
	mkdir -p "$dir/root"
	for layer in $(jq -r '.layers[].digest' "$dir/image/manifest.json"); do
		tar -xzf "$dir/image/${layer#sha256:}" -C "$dir/root"
	done
}

# Boots kernel + initrd and prints the SYNTHETIC-TALOS-BOOT line. Kernel
# messages below "error" are kept off the console (loglevel=3) so that none
# lands in the middle of the line; the line is then cut at its last field.
boot() {
	local kernel=$1 initrd=$2 log=$3
	timeout 180 qemu-system-x86_64 -machine q35,accel=tcg -m 512 -nographic -no-reboot \
		-kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 loglevel=3" >"$log" 2>&1 ||
		die "qemu failed or timed out; see $log"
	local line
	line=$(grep -a -o 'SYNTHETIC-TALOS-BOOT version=[^ ]* schematic=[^ ]* extensions=[^ []*' "$log" | tr -d '\r' |
		awk 'NR == 1') || true
	[ -n "$line" ] || die "no boot line; see $log"
	echo "$line"
}

# Appends an extensions cpio as the factory does: <n>.sqsh layers plus
# /extensions.yaml in go-yaml's layout, compressed like the base.
append_extensions() {
	local v=$1 base=$2 out=$3 schematic=$4 dir
	dir=$(mktemp -d "$work/ext.XXXXXX")
	mkdir -p "$dir/ext0/usr/local/etc/containers" "$dir/ext1/usr/local/share/schematic" "$dir/cpio"
	echo "name: qemu-guest-agent" >"$dir/ext0/usr/local/etc/containers/qemu-guest-agent.yaml"
	: >"$dir/ext1/usr/local/share/schematic/$schematic"
	mksquashfs "$dir/ext0" "$dir/cpio/0.sqsh" -all-root -noappend -no-progress -quiet >/dev/null
	mksquashfs "$dir/ext1" "$dir/cpio/1.sqsh" -all-root -noappend -no-progress -quiet >/dev/null
	cat >"$dir/cpio/extensions.yaml" <<EOF
layers:
    - image: 0.sqsh
      metadata:
        name: qemu-guest-agent
        version: 9.2.0
        author: Markus Reiter
        description: |
            QEMU guest agent.
        compatibility:
            talos:
                version: '>= v1.5.0'
    - image: 1.sqsh
      metadata:
        name: schematic
        version: $schematic
        author: Image Factory
        description: ""
        compatibility:
            talos:
                version: ""
        extraInfo: |
            overlay:
                image: siderolabs/sbc-raspberrypi
                name: rpi_generic
            customization:
                systemExtensions:
                    officialExtensions:
                        - image: not-a-layer
                          name: not-a-layer
EOF
	cp "$base" "$out"
	local compress=(zstd -q -18 -c)
	case "$(head -c 4 "$base" | od -An -tx1 | tr -d ' ')" in
	fd377a58) compress=(xz -C crc32 -0 -e -c) ;;
	esac
	(cd "$dir/cpio" && printf '%s\n' 0.sqsh 1.sqsh extensions.yaml |
		cpio -H newc -o --reproducible --quiet -R 0:0 | "${compress[@]}") >>"$out"
}

schematic=376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba
for v in "${versions[@]}"; do
	step "boot $v"
	dir="$work/$v"
	mkdir -p "$dir"
	pull_imager "$v" "$dir"
	assets="$dir/root/usr/install/amd64"
	line=$(boot "$assets/vmlinuz" "$assets/initramfs.xz" "$dir/boot.log")
	echo "$line" >&2
	[ "$line" = "SYNTHETIC-TALOS-BOOT version=$v schematic=none extensions=" ] ||
		die "unexpected boot line for $v: $line"

	append_extensions "$v" "$assets/initramfs.xz" "$dir/initramfs-ext.xz" "$schematic"
	line=$(boot "$assets/vmlinuz" "$dir/initramfs-ext.xz" "$dir/boot-ext.log")
	echo "$line" >&2
	[ "$line" = "SYNTHETIC-TALOS-BOOT version=$v schematic=$schematic extensions=qemu-guest-agent,schematic" ] ||
		die "unexpected boot line with extensions for $v: $line"
done

step "PASS: ${#versions[@]} versions generated, served and booted"
