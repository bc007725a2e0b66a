//! Kernel modules the synthetic init needs to mount its root: squashfs,
//! overlayfs and loop, plus whatever they depend on.
//!
//! Debian builds these as modules (Talos builds them in), so they are copied
//! from the kernel package into the initramfs. Dependencies come from each
//! module's own `.modinfo` (`depends=`), because the package ships no
//! `modules.dep` (depmod runs at install time). Modules listed in
//! `modules.builtin` are skipped, and compressed modules (`.ko.xz`, `.ko.zst`,
//! `.ko.gz`, as newer Debian kernels ship them) are decompressed here, since
//! busybox `insmod` loads plain ELF only.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::limits::{MAX_MODULE_SCAN, MAX_MODULE_SIZE, MAX_MODULES};
use crate::tree::Source;

/// The modules the synthetic init loads, by name.
pub(crate) const BOOT_MODULES: [&str; 3] = ["loop", "squashfs", "overlay"];

/// A module to place in the initramfs.
#[derive(Debug, Clone)]
pub(crate) struct KernelModule {
    /// Module name (`squashfs`).
    pub(crate) name: String,
    /// Path under `<modules>/<release>/`, without a compression suffix
    /// (`kernel/fs/squashfs/squashfs.ko`).
    pub(crate) relative: String,
    /// The uncompressed module.
    pub(crate) source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Packing {
    Plain,
    Xz,
    Zstd,
    Gzip,
}

#[derive(Debug)]
struct Found {
    path: PathBuf,
    relative: String,
    packing: Packing,
}

/// Resolves `wanted` and their dependencies, dependencies first.
pub(crate) fn resolve(modules_dir: &Path, wanted: &[&str]) -> Result<Vec<KernelModule>> {
    let builtin = builtin_names(modules_dir)?;
    let index = index_modules(modules_dir)?;
    let mut resolved = Vec::new();
    let mut visiting = BTreeSet::new();
    for name in wanted {
        visit(
            &normalize(name),
            &index,
            &builtin,
            &mut visiting,
            &mut resolved,
        )?;
    }
    Ok(resolved)
}

fn visit(
    name: &str,
    index: &BTreeMap<String, Found>,
    builtin: &BTreeSet<String>,
    visiting: &mut BTreeSet<String>,
    resolved: &mut Vec<KernelModule>,
) -> Result<()> {
    if builtin.contains(name) || resolved.iter().any(|m| m.name == name) {
        return Ok(());
    }
    if !visiting.insert(name.to_owned()) {
        // A dependency cycle; the kernel would refuse it too, but the loop
        // must not recurse forever.
        return Ok(());
    }
    if resolved.len() >= MAX_MODULES {
        return Err(Error::Limit {
            what: format!("modules pulled into the initramfs (at {name})"),
            limit: MAX_MODULES as u64,
        });
    }
    let found = index.get(name).ok_or_else(|| Error::MissingInput {
        what: format!("kernel module {name}"),
        looked_for: PathBuf::from(format!("kernel/**/{name}.ko[.xz|.zst|.gz]")),
    })?;
    let bytes = read_module(found)?;
    for dependency in depends(&bytes) {
        visit(&normalize(&dependency), index, builtin, visiting, resolved)?;
    }
    let source = match found.packing {
        Packing::Plain => Source::Path(found.path.clone()),
        _ => Source::Bytes(bytes),
    };
    resolved.push(KernelModule {
        name: name.to_owned(),
        relative: found.relative.clone(),
        source,
    });
    Ok(())
}

/// Module names treat `-` and `_` alike.
fn normalize(name: &str) -> String {
    name.replace('-', "_")
}

/// Names from `modules.builtin` (`kernel/fs/ext4/ext4.ko` → `ext4`).
fn builtin_names(modules_dir: &Path) -> Result<BTreeSet<String>> {
    let path = modules_dir.join("modules.builtin");
    if !path.exists() {
        return Ok(BTreeSet::new());
    }
    let mut text = String::new();
    File::open(&path)
        .and_then(|f| f.take(MAX_MODULE_SIZE).read_to_string(&mut text))
        .ctx(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| line.rsplit('/').next())
        .filter_map(|file| file.strip_suffix(".ko"))
        .map(normalize)
        .collect())
}

/// Every module file under `<modules>/kernel`, by normalised name.
fn index_modules(modules_dir: &Path) -> Result<BTreeMap<String, Found>> {
    let mut index = BTreeMap::new();
    let mut pending = vec![PathBuf::from("kernel")];
    let mut scanned = 0usize;
    while let Some(relative_dir) = pending.pop() {
        let dir = modules_dir.join(&relative_dir);
        let mut entries: Vec<_> = fs::read_dir(&dir)
            .ctx(|| format!("listing {}", dir.display()))?
            .collect::<std::io::Result<_>>()
            .ctx(|| format!("listing {}", dir.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            scanned += 1;
            if scanned > MAX_MODULE_SCAN {
                return Err(Error::Limit {
                    what: format!("entries scanned in {}", modules_dir.display()),
                    limit: MAX_MODULE_SCAN as u64,
                });
            }
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let relative = relative_dir.join(&file_name);
            let kind = entry
                .file_type()
                .ctx(|| format!("inspecting {}", entry.path().display()))?;
            if kind.is_dir() {
                pending.push(relative);
                continue;
            }
            let Some((stem, packing)) = split_module_name(&file_name) else {
                continue;
            };
            let relative_ko = relative
                .with_file_name(format!("{stem}.ko"))
                .to_string_lossy()
                .into_owned();
            index.entry(normalize(stem)).or_insert(Found {
                path: entry.path(),
                relative: relative_ko,
                packing,
            });
        }
    }
    Ok(index)
}

fn split_module_name(file_name: &str) -> Option<(&str, Packing)> {
    [
        (".ko", Packing::Plain),
        (".ko.xz", Packing::Xz),
        (".ko.zst", Packing::Zstd),
        (".ko.gz", Packing::Gzip),
    ]
    .into_iter()
    .find_map(|(suffix, packing)| file_name.strip_suffix(suffix).map(|stem| (stem, packing)))
}

/// The module's uncompressed bytes, bounded by [`MAX_MODULE_SIZE`].
fn read_module(found: &Found) -> Result<Vec<u8>> {
    let context = || format!("reading kernel module {}", found.path.display());
    let file = File::open(&found.path).ctx(context)?;
    let reader: Box<dyn Read> = match found.packing {
        Packing::Plain => Box::new(file),
        Packing::Xz => Box::new(liblzma::read::XzDecoder::new(file)),
        Packing::Zstd => Box::new(zstd::stream::read::Decoder::new(file).ctx(context)?),
        Packing::Gzip => Box::new(flate2::read::GzDecoder::new(file)),
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_MODULE_SIZE + 1)
        .read_to_end(&mut bytes)
        .ctx(context)?;
    if bytes.len() as u64 > MAX_MODULE_SIZE {
        return Err(Error::Limit {
            what: format!("size of kernel module {}", found.path.display()),
            limit: MAX_MODULE_SIZE,
        });
    }
    if !bytes.starts_with(b"\x7fELF") {
        return Err(Error::BadInput {
            path: found.path.clone(),
            reason: "not an ELF module after decompression".to_owned(),
        });
    }
    Ok(bytes)
}

/// The `depends=` entry of a module's `.modinfo` (NUL-separated `key=value`
/// strings; the key is matched only at the start of a string).
fn depends(module: &[u8]) -> Vec<String> {
    const KEY: &[u8] = b"depends=";
    let mut start = 0;
    while let Some(offset) = find(module.get(start..).unwrap_or_default(), KEY) {
        let at = start + offset;
        let at_string_start = at == 0 || module.get(at - 1) == Some(&0);
        let value_start = at + KEY.len();
        if at_string_start {
            let rest = module.get(value_start..).unwrap_or_default();
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let value = String::from_utf8_lossy(rest.get(..end).unwrap_or_default());
            return value
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        start = value_start;
    }
    Vec::new()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_reads_only_the_modinfo_key() {
        let module =
            b"\x7fELF...xdepends=bogus\0license=GPL\0depends=zstd_decompress,xz-dec\0name=x\0";
        assert_eq!(depends(module), ["zstd_decompress", "xz-dec"]);
        assert!(depends(b"\0depends=\0").is_empty());
    }

    #[test]
    fn resolves_dependencies_first_and_decompresses() {
        let dir = tempfile::tempdir().unwrap();
        let fs_dir = dir.path().join("kernel/fs/x");
        fs::create_dir_all(&fs_dir).unwrap();
        fs::write(fs_dir.join("lib-a.ko"), b"\x7fELF\0depends=\0").unwrap();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        std::io::Write::write_all(&mut xz, b"\x7fELF\0depends=lib_a\0").unwrap();
        fs::write(fs_dir.join("top.ko.xz"), xz.finish().unwrap()).unwrap();
        fs::write(
            dir.path().join("modules.builtin"),
            "kernel/fs/b/builtin.ko\n",
        )
        .unwrap();
        let modules = resolve(dir.path(), &["top", "builtin"]).unwrap();
        let names: Vec<_> = modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["lib_a", "top"]);
        assert_eq!(modules[1].relative, "kernel/fs/x/top.ko");
        assert_eq!(
            modules[1].source,
            Source::Bytes(b"\x7fELF\0depends=lib_a\0".to_vec())
        );
        assert!(resolve(dir.path(), &["absent"]).is_err());
    }
}
