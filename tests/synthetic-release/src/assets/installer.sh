#!/bin/sh
# SYNTHETIC Talos installer stand-in (image-factory test fixture; NOT Talos).
# Talos @VERSION@, @ARCH@. The real installer partitions a disk and installs
# the boot assets; this one only says what it is.
echo "synthetic installer @VERSION@ (@ARCH@): not a real Talos installer" >&2
exit 1
