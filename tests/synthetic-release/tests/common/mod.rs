//! Shared helpers of the integration tests: stand-in Debian inputs (so the
//! generator runs without the network), layout reading, and external tools.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code,
    unreachable_pub
)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The kernel release of the stand-in inputs.
pub const RELEASE: &str = "6.1.0-99-amd64";

/// Writes a stand-in of what fetch-debian-inputs.sh extracts into
/// `<cache>/root`: fake kernel, busybox and EFI files, and three "modules"
/// (one xz-compressed, one depending on another) that exercise resolution.
pub fn stand_in_inputs(cache: &Path) {
    let root = cache.join("root");
    let write = |path: &str, bytes: &[u8]| {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    };
    write(&format!("boot/vmlinuz-{RELEASE}"), b"stand-in kernel\n");
    write("bin/busybox", b"stand-in busybox\n");
    write(
        "usr/lib/systemd/boot/efi/linuxx64.efi.stub",
        b"MZ stand-in stub\n",
    );
    write(
        "usr/lib/systemd/boot/efi/systemd-bootx64.efi",
        b"MZ stand-in boot\n",
    );
    let modules = format!("lib/modules/{RELEASE}");
    write(
        &format!("{modules}/kernel/fs/squashfs/squashfs.ko"),
        b"\x7fELF\0name=squashfs\0depends=\0",
    );
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(b"\x7fELF\0name=overlay\0depends=exportfs\0")
        .unwrap();
    write(
        &format!("{modules}/kernel/fs/overlayfs/overlay.ko.xz"),
        &xz.finish().unwrap(),
    );
    write(
        &format!("{modules}/kernel/fs/exportfs/exportfs.ko"),
        b"\x7fELF\0name=exportfs\0depends=\0",
    );
    write(
        &format!("{modules}/kernel/drivers/block/loop.ko"),
        b"\x7fELF\0name=loop\0depends=\0",
    );
    write(
        &format!("{modules}/modules.order"),
        b"kernel/fs/squashfs/squashfs.ko\n",
    );
}

/// Path of a required external tool; fails naming the Debian package.
pub fn tool(name: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| panic!("{name} not found: install the Debian package {package}"))
}

/// Runs a command and returns stdout; fails with stderr on non-zero exit.
pub fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Reads an OCI layout written by the generator.
pub struct LayoutReader {
    pub dir: PathBuf,
}

impl LayoutReader {
    pub fn blob(&self, digest: &str) -> Vec<u8> {
        let hex = digest.strip_prefix("sha256:").unwrap();
        fs::read(self.dir.join("blobs/sha256").join(hex)).unwrap()
    }

    pub fn json(&self, digest: &str) -> Value {
        serde_json::from_slice(&self.blob(digest)).unwrap()
    }

    /// The index digest tagged `reference`.
    pub fn tagged(&self, reference: &str) -> String {
        let index: Value =
            serde_json::from_slice(&fs::read(self.dir.join("index.json")).unwrap()).unwrap();
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == reference)
            .unwrap_or_else(|| panic!("{reference} not tagged"))["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The manifest of `reference` for `arch`.
    pub fn manifest(&self, reference: &str, arch: &str) -> Value {
        let index = self.json(&self.tagged(reference));
        let entry = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["architecture"] == arch)
            .unwrap()
            .clone();
        self.json(entry["digest"].as_str().unwrap())
    }

    /// Unpacks every layer of `reference`/`arch`, in order, into `into`.
    pub fn unpack(&self, reference: &str, arch: &str, into: &Path) {
        let manifest = self.manifest(reference, arch);
        for layer in manifest["layers"].as_array().unwrap() {
            let blob = self.blob(layer["digest"].as_str().unwrap());
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(blob.as_slice()));
            archive.set_preserve_permissions(true);
            archive.unpack(into).unwrap();
        }
    }
}
