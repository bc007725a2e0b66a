//! The synthetic `modules.dep` extension: a kernel module dependency index
//! covering the base system's modules and every extension's.
//!
//! Upstream (`GenerateKernelModuleDependencyTreeExtension`), reproduced:
//! take `rootfs.sqsh` out of the base initramfs, extract its
//! `<modules path>` (which must hold exactly one `<kernel version>`
//! directory), copy each module-providing extension's
//! `<modules path>/<kver>` over it, run
//! `depmod --all --basedir <root> --config <conf> <kver>` with a
//! configuration of `search extras built-in`, and package the top-level
//! `modules.*` files as an extension named `modules.dep` (version = kver,
//! author `Talos Machinery`, no compatibility range), which becomes the last
//! layer. The `.ko` files themselves stay in each extension's squashfs.
//!
//! Differences: `rootfs.sqsh` is read with `backhand` instead of
//! `unsquashfs`, and symlinks under the base modules directory (`build`,
//! `source`) are not extracted, since depmod does not need them and not
//! creating links on the host keeps every write inside the work directory.
//! `depmod` (Debian/Alpine package `kmod`) is the one external program; its
//! path is configurable.

use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;

use backhand::{FilesystemReader, InnerNode};

use crate::extension::{Extension, FlatTree, Limits, Manifest, Metadata, Node, TreePath};

use super::codec::open_base;
use super::materialize::{Concrete, MaterializeError, materialize, resolve};
use super::newc::read_newc;

/// Name (and directory) of the synthetic extension.
pub const MODULES_DEP_NAME: &str = "modules.dep";
/// Its author.
pub const MODULES_DEP_AUTHOR: &str = "Talos Machinery";
/// Its description.
pub const MODULES_DEP_DESCRIPTION: &str = "Combined modules.dep for all extensions";
/// The depmod configuration upstream uses (`/etc/modules.d/10-extra-modules.conf`).
pub const DEPMOD_CONFIG: &str = "search extras built-in\n";
/// Name of the base system squashfs inside the initramfs.
pub const ROOTFS_ASSET: &str = "rootfs.sqsh";
/// Largest `rootfs.sqsh` accepted from the base initramfs.
pub const MAX_ROOTFS_BYTES: u64 = 4 << 30;

/// Why the `modules.dep` extension could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ModulesDepError {
    /// An I/O step failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: io::Error,
    },
    /// The base initramfs has no `rootfs.sqsh`.
    #[error("base initramfs has no {ROOTFS_ASSET}")]
    NoRootfs,
    /// `rootfs.sqsh` is larger than allowed.
    #[error("{ROOTFS_ASSET} is over {MAX_ROOTFS_BYTES} bytes")]
    RootfsTooLarge,
    /// `rootfs.sqsh` could not be read.
    #[error("reading {ROOTFS_ASSET}: {0}")]
    Squashfs(#[from] backhand::BackhandError),
    /// The modules directory does not hold exactly one kernel version.
    #[error(
        "invalid kernel modules path {path}: expected exactly one kernel version directory, found {found:?}"
    )]
    KernelVersion {
        /// The modules path.
        path: String,
        /// What was found there.
        found: Vec<String>,
    },
    /// An extension has modules but not for the base kernel version.
    #[error("extension {extension:?} has no modules for kernel {kver}")]
    NoModulesForKernel {
        /// The extension.
        extension: String,
        /// The base kernel version.
        kver: String,
    },
    /// Following links in an extension's modules failed.
    #[error("extension {extension:?}: {source}")]
    Materialize {
        /// The extension.
        extension: String,
        /// The cause.
        source: MaterializeError,
    },
    /// depmod could not be started.
    #[error("running {program} (Debian package kmod): {source}")]
    DepmodSpawn {
        /// The program.
        program: String,
        /// The cause.
        source: io::Error,
    },
    /// depmod failed.
    #[error("{program} failed with {status}: {stderr}")]
    DepmodFailed {
        /// The program.
        program: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ModulesDepError {
    let context = context.into();
    move |source| ModulesDepError::Io { context, source }
}

/// Whether `ext` has `<modules path>` in its rootfs (following links).
pub(crate) fn provides_kernel_modules(ext: &Extension, modules_path: &str) -> bool {
    let rootfs = Extension::rootfs_path();
    TreePath::from_absolute(modules_path)
        .map(|m| rootfs.join_path(&m))
        .is_some_and(|p| matches!(resolve(ext.tree(), &rootfs, &p), Ok(Some(_))))
}

/// Builds the `modules.dep` extension in `work` (an empty directory).
pub(crate) fn build_modules_dep(
    base_initramfs: &Path,
    extensions: &[&Extension],
    modules_path: &str,
    depmod: &Path,
    work: &Path,
    limits: &Limits,
) -> Result<Extension, ModulesDepError> {
    let rootfs_sqsh = work.join(ROOTFS_ASSET);
    extract_rootfs(base_initramfs, &rootfs_sqsh)?;

    let root = work.join("root");
    let rel_modules = modules_path.trim_start_matches('/');
    let modules_dir = root.join(rel_modules);
    let kver = extract_modules(&rootfs_sqsh, modules_path, &root)?;
    fs::remove_file(&rootfs_sqsh).map_err(io_err(format!("removing {}", rootfs_sqsh.display())))?;
    let kver_dir = modules_dir.join(&kver);

    let rootfs = Extension::rootfs_path();
    for ext in extensions {
        let name = ext.manifest().metadata.name.clone();
        let sub = TreePath::from_absolute(modules_path)
            .and_then(|m| m.join(&kver))
            .map(|m| rootfs.join_path(&m))
            .ok_or_else(|| ModulesDepError::NoModulesForKernel {
                extension: name.clone(),
                kver: kver.clone(),
            })?;
        let entries = materialize(ext.tree(), &rootfs, &sub, limits.max_entries)
            .map_err(|source| ModulesDepError::Materialize {
                extension: name.clone(),
                source,
            })?
            .ok_or_else(|| ModulesDepError::NoModulesForKernel {
                extension: name.clone(),
                kver: kver.clone(),
            })?;
        for (rel, entry) in entries {
            // `rel` starts with the kver component.
            let dest = modules_dir.join(rel.as_str());
            match entry {
                Concrete::Dir { .. } => fs::create_dir_all(&dest)
                    .map_err(io_err(format!("creating {}", dest.display())))?,
                Concrete::File { source, .. } => {
                    fs::copy(&source, &dest).map_err(io_err(format!(
                        "copying module {rel} of extension {name:?}"
                    )))?;
                }
            }
        }
    }

    let conf = work.join("depmod.conf");
    fs::write(&conf, DEPMOD_CONFIG).map_err(io_err(format!("writing {}", conf.display())))?;
    // depmod looks in <basedir>/lib/modules; upstream strips that suffix.
    let basedir = match modules_dir.to_string_lossy().strip_suffix("/lib/modules") {
        Some(prefix) => PathBuf::from(prefix),
        None => root.clone(),
    };
    run_depmod(depmod, &basedir, &conf, &kver)?;

    package(&kver_dir, rel_modules, &kver, &work.join("blobs"))
}

fn extract_rootfs(base: &Path, dest: &Path) -> Result<(), ModulesDepError> {
    let file = File::open(base).map_err(io_err(format!("opening {}", base.display())))?;
    let mut stream = open_base(file).map_err(io_err("decompressing the base initramfs"))?;
    let mut found = false;
    let mut too_large = false;
    read_newc(&mut stream, |entry, data| {
        if entry.name != ROOTFS_ASSET {
            return Ok(true);
        }
        if entry.size > MAX_ROOTFS_BYTES {
            too_large = true;
            return Ok(false);
        }
        let mut out = File::create(dest)?;
        io::copy(data, &mut out)?;
        found = true;
        Ok(false)
    })
    .map_err(io_err("reading the base initramfs cpio"))?;
    if too_large {
        return Err(ModulesDepError::RootfsTooLarge);
    }
    if !found {
        return Err(ModulesDepError::NoRootfs);
    }
    Ok(())
}

/// Extracts `<modules path>/<kver>` of the squashfs under `root`; returns
/// the kernel version.
fn extract_modules(
    sqsh: &Path,
    modules_path: &str,
    root: &Path,
) -> Result<String, ModulesDepError> {
    let file = File::open(sqsh).map_err(io_err(format!("opening {}", sqsh.display())))?;
    let fs_reader = FilesystemReader::from_reader(BufReader::new(file))?;
    let modules = TreePath::from_absolute(modules_path);
    let below = |node_path: &Path| -> Option<TreePath> {
        let p = TreePath::from_absolute(&node_path.to_string_lossy())?;
        p.strip_prefix(modules.as_ref()?)
    };
    let mut versions: Vec<(String, bool)> = fs_reader
        .files()
        .filter_map(|node| {
            let rel = below(&node.fullpath)?;
            (rel.components().count() == 1)
                .then(|| (rel.to_string(), matches!(node.inner, InnerNode::Dir(_))))
        })
        .collect();
    versions.sort();
    let kver = match versions.as_slice() {
        [(name, true)] => name.clone(),
        _ => {
            return Err(ModulesDepError::KernelVersion {
                path: modules_path.to_owned(),
                found: versions.into_iter().map(|(n, _)| n).collect(),
            });
        }
    };
    let modules_dir = root.join(modules_path.trim_start_matches('/'));
    fs::create_dir_all(modules_dir.join(&kver))
        .map_err(io_err(format!("creating {}", modules_dir.display())))?;
    for node in fs_reader.files() {
        let Some(rel) = below(&node.fullpath) else {
            continue;
        };
        let dest = modules_dir.join(rel.as_str());
        match &node.inner {
            InnerNode::Dir(_) => {
                fs::create_dir_all(&dest).map_err(io_err(format!("creating {}", dest.display())))?
            }
            InnerNode::File(file) => {
                let mut out = File::create_new(&dest)
                    .map_err(io_err(format!("creating {}", dest.display())))?;
                io::copy(&mut fs_reader.file(file).reader(), &mut out)
                    .map_err(io_err(format!("extracting {rel} from {ROOTFS_ASSET}")))?;
            }
            _ => {}
        }
    }
    Ok(kver)
}

fn run_depmod(
    depmod: &Path,
    basedir: &Path,
    conf: &Path,
    kver: &str,
) -> Result<(), ModulesDepError> {
    let program = depmod.display().to_string();
    let output = Command::new(depmod)
        .arg("--all")
        .arg("--basedir")
        .arg(basedir)
        .arg("--config")
        .arg(conf)
        .arg(kver)
        .output()
        .map_err(|source| ModulesDepError::DepmodSpawn {
            program: program.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(ModulesDepError::DepmodFailed {
            program,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// Packages the `modules.*` files of `kver_dir` as the extension.
fn package(
    kver_dir: &Path,
    rel_modules: &str,
    kver: &str,
    blob_dir: &Path,
) -> Result<Extension, ModulesDepError> {
    let mut tree =
        FlatTree::new(blob_dir).map_err(io_err(format!("creating {}", blob_dir.display())))?;
    let invalid = || ModulesDepError::KernelVersion {
        path: rel_modules.to_owned(),
        found: vec![kver.to_owned()],
    };
    let dir = TreePath::from_absolute(&format!("/rootfs/{rel_modules}"))
        .and_then(|d| d.join(kver))
        .ok_or_else(invalid)?;
    let mut names: Vec<(String, u32)> = Vec::new();
    for item in fs::read_dir(kver_dir).map_err(io_err(format!("listing {}", kver_dir.display())))? {
        let item = item.map_err(io_err(format!("listing {}", kver_dir.display())))?;
        let meta = item
            .path()
            .symlink_metadata()
            .map_err(io_err(format!("inspecting {}", item.path().display())))?;
        let name = item.file_name().to_string_lossy().into_owned();
        if meta.is_file() && name.starts_with("modules.") {
            use std::os::unix::fs::PermissionsExt as _;
            names.push((name, meta.permissions().mode() & 0o777));
        }
    }
    names.sort();
    let put_err = |e: crate::extension::TreeError| ModulesDepError::Io {
        context: "building the modules.dep tree".to_owned(),
        source: io::Error::other(e.to_string()),
    };
    tree.ensure_parents(&dir).map_err(put_err)?;
    tree.put(dir.clone(), Node::Dir { mode: 0o755 })
        .map_err(put_err)?;
    for (name, mode) in names {
        let path = kver_dir.join(&name);
        let mut file = File::open(&path).map_err(io_err(format!("opening {}", path.display())))?;
        let size = file
            .metadata()
            .map_err(io_err(format!("inspecting {}", path.display())))?
            .len();
        let blob = tree
            .blobs_mut()
            .store(&mut file, size)
            .map_err(io_err(format!("storing {}", path.display())))?;
        let node_path = dir.join(&name).ok_or_else(invalid)?;
        tree.put(node_path, Node::File { mode, blob, size })
            .map_err(put_err)?;
    }
    let mut metadata = Metadata {
        name: MODULES_DEP_NAME.to_owned(),
        version: kver.to_owned(),
        author: MODULES_DEP_AUTHOR.to_owned(),
        description: MODULES_DEP_DESCRIPTION.to_owned(),
        ..Metadata::default()
    };
    metadata.compatibility.talos.version = String::new();
    Ok(Extension::from_parts(
        Manifest {
            version: kver.to_owned(),
            metadata,
        },
        tree,
    ))
}
