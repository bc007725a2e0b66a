#!/bin/busybox sh
# Synthetic Talos early init (image-factory test fixture; NOT Talos).
#
# Does what Talos's init does before switch_root: mounts /rootfs.sqsh and every
# squashfs listed in /extensions.yaml as one read-only overlay (later layers
# on top), then, instead of starting machined, prints ONE line
#
#   SYNTHETIC-TALOS-BOOT version=<VERSION_ID of the merged root> schematic=<id|none> extensions=<names,...>
#
# (or SYNTHETIC-TALOS-BOOT-FAILED reason=<what>) on every active console and
# on ttyS0, and powers off.

/bin/busybox mkdir -p /dev /proc /sys /run /bin
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys

report() {
	targets=""
	if [ -r /sys/class/tty/console/active ]; then
		targets=$(cat /sys/class/tty/console/active)
	fi
	case " $targets " in
	*" ttyS0 "*) ;;
	*) [ -e /dev/ttyS0 ] && targets="$targets ttyS0" ;;
	esac
	[ -n "$targets" ] || targets=console
	for t in $targets; do
		[ -e "/dev/$t" ] && echo "$1" >"/dev/$t"
	done
	sync
	poweroff -f
	# poweroff -f does not return; never let init exit (that panics).
	while :; do sleep 60; done
}

fail() {
	report "SYNTHETIC-TALOS-BOOT-FAILED reason=$1"
}

for module in @MODULES@; do
	insmod "$module" || fail "insmod-${module##*/}"
done

mkdir -p /run/layers/rootfs /run/root
mount -t squashfs -o ro,loop /rootfs.sqsh /run/layers/rootfs || fail mount-rootfs.sqsh

lower=/run/layers/rootfs
names=""
schematic=none
if [ -f /extensions.yaml ]; then
	awk -f @AWK@ /extensions.yaml >/run/layers.txt || fail parse-extensions.yaml
	i=0
	while read -r image name version; do
		case "$image" in
		*[!A-Za-z0-9._-]* | "" | .*) fail "bad-layer-image-$image" ;;
		esac
		mkdir -p "/run/layers/$i"
		mount -t squashfs -o ro,loop "/$image" "/run/layers/$i" || fail "mount-$image"
		lower="/run/layers/$i:$lower"
		names="$names,$name"
		if [ "$name" = schematic ]; then
			schematic=$version
		fi
		i=$((i + 1))
	done </run/layers.txt
fi

if [ "$lower" = /run/layers/rootfs ]; then
	# overlayfs needs two lower layers without an upper one; like Talos,
	# mount the bare root when there are no extensions.
	mount -o bind /run/layers/rootfs /run/root || fail bind-rootfs
else
	mount -t overlay overlay -o "ro,lowerdir=$lower" /run/root || fail mount-overlay
fi

version=$(sed -n 's/^VERSION_ID=//p' /run/root/usr/lib/os-release)
[ -n "$version" ] || fail os-release
if [ "$schematic" != none ] && [ ! -e "/run/root/usr/local/share/schematic/$schematic" ]; then
	fail "schematic-marker-missing-$schematic"
fi

report "SYNTHETIC-TALOS-BOOT version=$version schematic=$schematic extensions=${names#,}"
