//! Every bound the generator enforces, in one place.
//!
//! The generator reads files from a directory a script filled from Debian's
//! archive; nothing there is hostile, but a wrong `--inputs` path (say, `/`)
//! must fail fast instead of filling the disk. Reaching any of these bounds is
//! an [`Error::Limit`](crate::Error::Limit) and nothing past it is written.

/// Longest path inside any generated archive (tar, cpio, squashfs), in bytes.
pub(crate) const MAX_PATH_LEN: usize = 1024;

/// Most entries (files, directories, links) in one generated tree.
pub(crate) const MAX_TREE_ENTRIES: usize = 10_000;

/// Largest single input file read from the inputs directory (the Debian
/// kernel is about 8 MiB, busybox 2 MiB). Also keeps every cpio entry far
/// below newc's 4 GiB size field.
pub(crate) const MAX_INPUT_FILE: u64 = 256 * 1024 * 1024;

/// Largest kernel module after decompression.
pub(crate) const MAX_MODULE_SIZE: u64 = 64 * 1024 * 1024;

/// Most modules pulled into the initramfs through `depends=` chains.
pub(crate) const MAX_MODULES: usize = 64;

/// Most directory entries scanned while looking for a module in the kernel
/// package's module tree (Debian's has about 4,000 modules).
pub(crate) const MAX_MODULE_SCAN: usize = 50_000;
