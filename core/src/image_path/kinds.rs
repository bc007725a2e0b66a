//! The vocabulary of outputs: what is built, how it is compressed, and which
//! disk format a disk image uses. Names and suffixes are Talos's
//! (`pkg/imager/profile/outputkind_enumer.go` and friends).

use std::fmt;

/// What kind of boot asset a path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputKind {
    /// The bare Linux kernel (`kernel-<arch>`).
    Kernel,
    /// The kernel command line as text (`cmdline-<platform>-<arch>`).
    Cmdline,
    /// The initramfs with extensions appended (`initramfs-<arch>.xz`).
    Initramfs,
    /// A bootable ISO (`<platform>-<arch>.iso`).
    Iso,
    /// A unified kernel image (`<platform>-<arch>-uki.efi`).
    Uki,
    /// An installer container image tarball (`installer-<arch>.tar`).
    Installer,
    /// A disk image (`<platform>-<arch>.<disk>[<compression>]`).
    Image,
}

impl OutputKind {
    /// Every kind, in declaration order.
    pub const ALL: [OutputKind; 7] = [
        OutputKind::Kernel,
        OutputKind::Cmdline,
        OutputKind::Initramfs,
        OutputKind::Iso,
        OutputKind::Uki,
        OutputKind::Installer,
        OutputKind::Image,
    ];

    /// The Talos profile name of the kind (`kernel`, `iso`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::Kernel => "kernel",
            OutputKind::Cmdline => "cmdline",
            OutputKind::Initramfs => "initramfs",
            OutputKind::Iso => "iso",
            OutputKind::Uki => "uki",
            OutputKind::Installer => "installer",
            OutputKind::Image => "image",
        }
    }
}

impl fmt::Display for OutputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the built asset is post-processed (compressed or archived).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutFormat {
    /// Served as built.
    Raw,
    /// A tarball holding `disk.raw`, gzipped (the GCP import format).
    TarGz,
    /// xz-compressed.
    Xz,
    /// gzip-compressed.
    Gz,
    /// zstd-compressed.
    Zst,
}

impl OutFormat {
    /// The compressed formats in the order upstream tries to strip their
    /// suffixes off a disk image path (`.tar.gz` must come before `.gz`).
    pub const STRIP_ORDER: [OutFormat; 4] = [
        OutFormat::TarGz,
        OutFormat::Gz,
        OutFormat::Xz,
        OutFormat::Zst,
    ];

    /// The file-name suffix this format appends (empty for [`OutFormat::Raw`]).
    pub fn suffix(self) -> &'static str {
        match self {
            OutFormat::Raw => "",
            OutFormat::TarGz => ".tar.gz",
            OutFormat::Xz => ".xz",
            OutFormat::Gz => ".gz",
            OutFormat::Zst => ".zst",
        }
    }

    /// The Talos profile name (`raw`, `.tar.gz`, `.xz`, `.gz`, `.zst`).
    pub fn as_str(self) -> &'static str {
        match self {
            OutFormat::Raw => "raw",
            other => other.suffix(),
        }
    }
}

/// The on-disk format of a disk image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiskFormat {
    /// A raw disk image.
    Raw,
    /// QEMU copy-on-write v2.
    Qcow2,
    /// Microsoft VHD (qemu-img's `vpc`).
    Vhd,
    /// A VMware OVA bundle.
    Ova,
}

impl DiskFormat {
    /// Every format, in the order upstream tries to match their extensions.
    pub const ALL: [DiskFormat; 4] = [
        DiskFormat::Raw,
        DiskFormat::Qcow2,
        DiskFormat::Vhd,
        DiskFormat::Ova,
    ];

    /// The Talos name, which is also the file extension without the dot.
    pub fn as_str(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Vhd => "vhd",
            DiskFormat::Ova => "ova",
        }
    }
}

impl fmt::Display for DiskFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_talos() {
        let kinds: Vec<&str> = OutputKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "kernel",
                "cmdline",
                "initramfs",
                "iso",
                "uki",
                "installer",
                "image"
            ]
        );
        let formats: Vec<(&str, &str)> = [
            OutFormat::Raw,
            OutFormat::TarGz,
            OutFormat::Xz,
            OutFormat::Gz,
            OutFormat::Zst,
        ]
        .iter()
        .map(|f| (f.as_str(), f.suffix()))
        .collect();
        assert_eq!(
            formats,
            [
                ("raw", ""),
                (".tar.gz", ".tar.gz"),
                (".xz", ".xz"),
                (".gz", ".gz"),
                (".zst", ".zst")
            ]
        );
        let disks: Vec<String> = DiskFormat::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(disks, ["raw", "qcow2", "vhd", "ova"]);
    }
}
