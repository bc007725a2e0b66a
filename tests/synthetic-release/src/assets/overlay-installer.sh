#!/bin/sh
# SYNTHETIC Talos overlay installer (image-factory test fixture), speaking the
# overlay protocol of siderolabs/talos pkg/machinery/overlay:
#   get-options: YAML options on stdin, prints {name, kernelArgs, partitionOptions}
#   install:     YAML {installDisk, mountPrefix, artifactsPath, extraOptions} on
#                stdin; copies the firmware into <mountPrefix>/boot/EFI and
#                writes config.txt there.
set -eu

field() {
	sed -n "s/^$1:[ \t]*//p" "$2" | sed 's/^"\(.*\)"$/\1/' | head -n 1
}

case "${1:-}" in
get-options)
	cat >/dev/null
	cat <<'OPTIONS'
name: rpi_generic
kernelArgs:
  - console=tty0
  - console=ttyAMA0,115200
  - sysctl.kernel.kexec_load_disabled=1
  - talos.dashboard.disabled=1
partitionOptions:
  offset: 0
OPTIONS
	;;
install)
	input=$(mktemp)
	trap 'rm -f "$input"' EXIT
	cat >"$input"
	prefix=$(field mountPrefix "$input")
	artifacts=$(field artifactsPath "$input")
	[ -n "$prefix" ] && [ -n "$artifacts" ] || {
		echo "install: mountPrefix and artifactsPath are required" >&2
		exit 1
	}
	mkdir -p "$prefix/boot/EFI"
	cp -R "$artifacts/arm64/firmware/boot/." "$prefix/boot/EFI/"
	cp "$artifacts/arm64/u-boot/rpi_generic/u-boot.bin" "$prefix/boot/EFI/u-boot.bin"
	printf 'arm_64bit=1\nkernel=u-boot.bin\n# synthetic rpi_generic overlay\n' >"$prefix/boot/EFI/config.txt"
	;;
*)
	echo "usage: $0 get-options|install" >&2
	exit 2
	;;
esac
