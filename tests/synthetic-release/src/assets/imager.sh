#!/bin/sh
# SYNTHETIC Talos imager stand-in (image-factory test fixture; NOT Talos).
# The image factory only reads /usr/install/<arch>/ from this image.
echo "synthetic imager: not a real Talos imager" >&2
exit 1
