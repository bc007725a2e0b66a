#!/usr/bin/env bash
# Downloads (does not install) the Debian packages the synthetic Talos release
# is built from, and unpacks them into CACHE_DIR/root:
#
#   linux-image-<abi>-amd64   the current kernel of the configured suite (the
#                              one linux-image-amd64 depends on), or
#                              $SYNTHETIC_KERNEL_PACKAGE
#   busybox-static            /bin/busybox for the initramfs
#   systemd-boot-efi          linuxx64.efi.stub and systemd-bootx64.efi
#
# Idempotent: .debs already in CACHE_DIR/debs are not downloaded again, and
# CACHE_DIR/root is only rebuilt when the set of package versions changes.
# Needs only apt (apt-cache, apt-get download, dpkg-deb) and package lists
# (run `apt-get update` once if the packages are not found). Prints the paths
# the generator uses, one `name=path` per line.
set -euo pipefail

usage() { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
cache=$1
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

die() { echo "fetch-debian-inputs: $*" >&2; exit 1; }

kernel_package=${SYNTHETIC_KERNEL_PACKAGE:-}
if [ -z "$kernel_package" ]; then
	kernel_package=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	[ -n "$kernel_package" ] ||
		die "cannot resolve linux-image-amd64 to a kernel package; run 'apt-get update' first"
fi
packages=("$kernel_package" busybox-static systemd-boot-efi)

# "<package>=<candidate version>" for each package, in order.
manifest=""
for package in "${packages[@]}"; do
	version=$(apt-cache policy "$package" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
	case "$version" in
	"" | "(none)") die "no installable version of $package; run 'apt-get update' first" ;;
	esac
	manifest+="$package=$version"$'\n'
done

deb_path() {
	# apt-get download names files <package>_<version with ':' as %3a>_<arch>.deb
	local package=$1 version=$2
	local file_version=${version//:/%3a}
	compgen -G "$cache/debs/${package}_${file_version}_*.deb" | head -n 1 || true
}

while IFS='=' read -r package version; do
	[ -n "$package" ] || continue
	if [ -z "$(deb_path "$package" "$version")" ]; then
		echo "fetch-debian-inputs: downloading $package $version" >&2
		(cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User=root "$package=$version" >&2) ||
			die "apt-get download $package=$version failed"
	fi
	[ -n "$(deb_path "$package" "$version")" ] || die "downloaded $package but found no .deb"
done <<<"$manifest"

stamp="$cache/root/.packages"
# (Both sides through $(...), which drops the trailing newline alike.)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(printf '%s' "$manifest")" ]; then
	echo "fetch-debian-inputs: unpacking into $cache/root" >&2
	rm -rf "$cache/root.partial"
	mkdir -p "$cache/root.partial"
	while IFS='=' read -r package version; do
		[ -n "$package" ] || continue
		dpkg-deb -x "$(deb_path "$package" "$version")" "$cache/root.partial"
	done <<<"$manifest"
	printf '%s' "$manifest" >"$cache/root.partial/.packages"
	rm -rf "$cache/root"
	mv "$cache/root.partial" "$cache/root"
fi

root="$cache/root"
kernel=$(compgen -G "$root/boot/vmlinuz-*" | head -n 1) || die "no kernel in $root/boot"
release=${kernel##*/vmlinuz-}
echo "inputs=$cache"
echo "kernel=$kernel"
echo "kernel_release=$release"
for dir in "$root/lib/modules/$release" "$root/usr/lib/modules/$release"; do
	[ -d "$dir" ] && echo "modules=$dir" && break
done
for busybox in "$root/bin/busybox" "$root/usr/bin/busybox"; do
	[ -x "$busybox" ] && echo "busybox=$busybox" && break
done
echo "systemd_stub=$root/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
echo "systemd_boot=$root/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
