//! Assembling the initramfs with system extensions (upstream
//! `extensions.Builder.Build` and `rebuildInitramfs`).
//!
//! Output, streamed to a `Write`:
//!
//! ```text
//! [newc cpio, uncompressed: kernel/x86/microcode/{AuthenticAMD,GenuineIntel}.bin]   only with microcode
//! [the base initramfs, byte for byte]
//! [newc cpio compressed like the base (zstd -18 from 1.8, xz -0e CRC32 before):
//!    <n>.sqsh…, extensions.yaml, modules.dep.sqsh, firmware tree]
//! ```
//!
//! Upstream writes no padding between segments (each cpio is padded to
//! 512 bytes inside itself; the kernel skips zeros between archives).
//! Extensions are numbered in the order given (official extensions, then
//! the schematic extension, then the embedded configuration, as the factory
//! lists them) and processed in *string* order of those numbers (`0, 1, 10,
//! 11, 2, …`), as upstream lists its directories; that order names the
//! squashfs files and orders `extensions.yaml`. The `modules.dep` extension,
//! when any extension carries kernel modules, is built before compression
//! and goes last.
//!
//! Memory stays bounded: squashfs images are written to files in the work
//! directory one at a time and streamed into the cpio; no artifact is held
//! whole. With no extensions the base initramfs is copied unchanged.
//!
//! Deliberate differences from upstream's bytes, none in the unpacked tree
//! (same paths, modes, file contents and squashfs listings):
//! - squashfs images have mtime 0 (see `squashfs`), so equal extensions
//!   give equal images, which are then taken from the segment cache
//!   ([`InitramfsSettings::segment_cache`]) instead of being rebuilt for
//!   every schematic;
//! - the zstd segment is several frames: squashfs images at a fast level,
//!   the rest at 18, each frame ending between cpio entries (see `codec`);
//! - cpio mtimes are 0 (see `newc`).
//!
//! Time goes into the zstd-18 squashfs blocks; they are compressed on all
//! cores (see `block_pool`), producing the bytes a serial write would.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};

use factory_core::quirks::Quirks;
use factory_core::version::TalosVersion;

use crate::extension::{Extension, Limits};
use crate::segment_cache::{DEFAULT_MAX_BYTES, SegmentCache};

use super::codec::{FrameKind, FramedEncoder, SegmentCompression};
use super::error::{InitramfsError, io_context};
use super::extensions_yaml::{Layer, render_extensions_yaml};
use super::materialize::Concrete;
use super::modules_dep::{MODULES_DEP_NAME, build_modules_dep, provides_kernel_modules};
use super::newc::NewcWriter;
use super::stage::{FILE_MODE, Staging};

/// Name of the extensions list at the initramfs root.
pub const EXTENSIONS_YAML: &str = "extensions.yaml";

/// What the build needs besides its inputs.
#[derive(Debug, Clone)]
pub struct InitramfsSettings {
    /// The Talos version the initramfs is for (drives compression, paths
    /// and compatibility checks).
    pub talos_version: TalosVersion,
    /// Also run Talos's content check on every extension (upstream's imager
    /// leaves it off).
    pub check_contents: bool,
    /// The `depmod` program (package `kmod`), used only when an extension
    /// carries kernel modules.
    pub depmod: PathBuf,
    /// Bounds for materialising links.
    pub limits: Limits,
    /// Where per-extension squashfs images are kept by content and reused
    /// across builds (see [`crate::segment_cache`]); `None` builds every
    /// image afresh, as upstream does.
    pub segment_cache: Option<PathBuf>,
}

impl InitramfsSettings {
    /// Upstream's defaults for `talos_version`: no content check, `depmod`
    /// from `PATH`, default limits.
    pub fn new(talos_version: TalosVersion) -> Self {
        InitramfsSettings {
            talos_version,
            check_contents: false,
            depmod: PathBuf::from("depmod"),
            limits: Limits::default(),
            segment_cache: None,
        }
    }
}

/// What was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitramfsSummary {
    /// The `extensions.yaml` layers, in order (empty: base copied as is).
    pub layers: Vec<Layer>,
    /// Whether an early microcode cpio was put in front.
    pub early_microcode: bool,
    /// Compression of the appended segment.
    pub compression: SegmentCompression,
    /// Bytes written to the output.
    pub bytes: u64,
}

/// Builds the initramfs from `base_initramfs` (the imager's
/// `initramfs.xz`) and `extensions` (in profile order) into `out`, using
/// `work_dir` (an empty directory the caller removes afterwards) for
/// squashfs images and other intermediates.
pub fn build_initramfs<W: Write>(
    base_initramfs: &Path,
    extensions: Vec<Extension>,
    settings: &InitramfsSettings,
    work_dir: &Path,
    out: W,
) -> Result<InitramfsSummary, InitramfsError> {
    let quirks = Quirks::new(&settings.talos_version);
    let compression = SegmentCompression::for_quirks(&quirks);
    let mut out = CountingWriter {
        inner: out,
        count: 0,
    };
    if extensions.is_empty() {
        copy_base(base_initramfs, &mut out)?;
        return Ok(InitramfsSummary {
            layers: Vec::new(),
            early_microcode: false,
            compression,
            bytes: out.count,
        });
    }

    // Upstream's directory names, listed in string order.
    let mut named: Vec<(String, Extension)> = extensions
        .into_iter()
        .enumerate()
        .map(|(i, ext)| (i.to_string(), ext))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));

    for (_, ext) in &named {
        let fail = |source| InitramfsError::Validation {
            extension: ext.manifest().metadata.name.clone(),
            source,
        };
        ext.check_compatibility(&settings.talos_version)
            .map_err(fail)?;
        if settings.check_contents {
            ext.check_contents().map_err(fail)?;
        }
    }

    let modules_path = quirks.kernel_modules_path();
    let with_modules: Vec<&Extension> = named
        .iter()
        .map(|(_, ext)| ext)
        .filter(|ext| provides_kernel_modules(ext, modules_path))
        .collect();
    if !with_modules.is_empty() {
        let modules_work = work_dir.join("modules");
        std::fs::create_dir_all(&modules_work)
            .map_err(io_context(format!("creating {}", modules_work.display())))?;
        let ext = build_modules_dep(
            base_initramfs,
            &with_modules,
            modules_path,
            &settings.depmod,
            &modules_work,
            &settings.limits,
        )?;
        named.push((MODULES_DEP_NAME.to_owned(), ext));
    }

    let staging_dir = work_dir.join("initramfs");
    let cache = settings
        .segment_cache
        .as_deref()
        .map(|dir| SegmentCache::open(dir, DEFAULT_MAX_BYTES))
        .transpose()?;
    let mut staging = Staging::new(&staging_dir, quirks, settings.limits.max_entries, cache)
        .map_err(io_context(format!("creating {}", staging_dir.display())))?;
    for (dir_name, ext) in &mut named {
        staging.add(dir_name, ext)?;
    }
    drop(named);

    let yaml = render_extensions_yaml(&staging.layers);
    let yaml_path = staging.dir().join(EXTENSIONS_YAML);
    std::fs::write(&yaml_path, &yaml)
        .map_err(io_context(format!("writing {}", yaml_path.display())))?;
    staging
        .add_file(EXTENSIONS_YAML, yaml_path, yaml.len() as u64)
        .map_err(io_context("staging extensions.yaml"))?;

    let early_microcode = !staging.microcode.is_empty();
    if early_microcode {
        write_microcode_cpio(&staging, &mut out)?;
    }
    copy_base(base_initramfs, &mut out)?;
    let mut cpio = NewcWriter::new(FramedEncoder::new(compression, &mut out));
    for (path, entry) in &staging.entries {
        let context = || format!("writing cpio entry {path}");
        let frame = if staging.images.contains(path) {
            FrameKind::Images
        } else {
            FrameKind::Other
        };
        cpio.get_mut()
            .begin(frame)
            .map_err(io_context(format!("starting a compressed frame at {path}")))?;
        match entry {
            Concrete::Dir { mode } => cpio
                .dir(path.as_str(), *mode & 0o777)
                .map_err(io_context(context()))?,
            Concrete::File { mode, source, size } => {
                let mut file = BufReader::new(
                    File::open(source)
                        .map_err(io_context(format!("opening {}", source.display())))?,
                );
                cpio.file(path.as_str(), *mode & 0o777, *size, &mut file)
                    .map_err(io_context(context()))?;
            }
        }
    }
    let (encoder, _) = cpio
        .finish()
        .map_err(io_context("writing the extensions cpio trailer"))?;
    encoder
        .finish()
        .map_err(io_context("finishing the extensions segment compressor"))?;
    Ok(InitramfsSummary {
        layers: staging.layers,
        early_microcode,
        compression,
        bytes: out.count,
    })
}

fn write_microcode_cpio<W: Write>(staging: &Staging, out: &mut W) -> Result<(), InitramfsError> {
    let mut cpio = NewcWriter::new(out);
    for dir in ["kernel", "kernel/x86", "kernel/x86/microcode"] {
        cpio.dir(dir, 0o755)
            .map_err(io_context(format!("writing cpio entry {dir}")))?;
    }
    for (name, source) in &staging.microcode {
        let mut file =
            File::open(source).map_err(io_context(format!("opening {}", source.display())))?;
        let size = file
            .metadata()
            .map_err(io_context(format!("inspecting {}", source.display())))?
            .len();
        cpio.file(name.as_str(), FILE_MODE, size, &mut file)
            .map_err(io_context(format!("writing cpio entry {name}")))?;
    }
    cpio.finish()
        .map_err(io_context("writing the microcode cpio trailer"))?;
    Ok(())
}

fn copy_base<W: Write>(base: &Path, out: &mut W) -> Result<(), InitramfsError> {
    let mut file = File::open(base).map_err(io_context(format!("opening {}", base.display())))?;
    io::copy(&mut file, out).map_err(io_context(format!("copying {}", base.display())))?;
    Ok(())
}

/// Counts the bytes written through it.
struct CountingWriter<W: Write> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
