//! Generating the whole release into an OCI layout directory, with reuse.
//!
//! The layout is built in a sibling staging directory (`<out>.partial`) and
//! renamed into place only when complete, so a reader never sees half a
//! release, and an interrupted run leaves the previous layout intact. A
//! directory is replaced only if it is empty or holds a summary file, i.e.
//! was written by this generator. When the existing layout has the same
//! fingerprint and every tagged blob is present, nothing is done.
//!
//! Order of work: the overlay and extension images first (catalogs need
//! their digests), then per version the boot assets of both architectures,
//! the imager, the base installer and the two catalogs; last, a cosign
//! signature of every tagged image. Shared content (the kernel layer,
//! firmware images used by several versions) is written once.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use factory_core::arch::Arch;
use factory_core::registry::{Descriptor, Digest};
use factory_core::version::TalosVersion;

use crate::boot::initramfs::{BootPayload, write_initramfs};
use crate::boot::rootfs::{RootfsSpec, write_rootfs};
use crate::error::{Error, IoContext, Result};
use crate::fingerprint::fingerprint;
use crate::fixtures::{self, ExtensionFixture, VERSIONS, arm64_kernel_release};
use crate::images::{catalog, extension, imager, installer, overlay};
use crate::inputs::DebianInputs;
use crate::kmod::{BOOT_MODULES, KernelModule, resolve};
use crate::oci::layout::Layout;
use crate::signing::{self, PUBLIC_KEY_FILE, public_key_pem};
use crate::summary::{SUMMARY_FILE, Summary, TaggedImage};

/// What to generate, and where.
#[derive(Debug, Clone)]
pub struct Config {
    /// The cache directory `fetch-debian-inputs.sh` filled (with `root/`).
    pub inputs: PathBuf,
    /// The OCI layout directory to write.
    pub out: PathBuf,
    /// Versions to generate (tags such as `v1.12.4`); empty means all of
    /// [`fixtures::VERSIONS`].
    pub versions: Vec<String>,
    /// Regenerate even when the existing layout is current.
    pub force: bool,
}

/// The result of [`generate`].
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What the layout holds.
    pub summary: Summary,
    /// Whether an existing, current layout was kept instead of generating.
    pub reused: bool,
}

/// Generates the release described by `config` (or keeps a current one).
pub fn generate(config: &Config) -> Result<Outcome> {
    let versions = select_versions(&config.versions)?;
    let inputs = DebianInputs::locate(&config.inputs)?;
    let modules = resolve(&inputs.modules_dir, &BOOT_MODULES)?;
    let fingerprint = fingerprint(&inputs, &modules, &versions)?;

    if !config.force
        && let Some(summary) = current_layout(&config.out, &fingerprint)
    {
        return Ok(Outcome {
            summary,
            reused: true,
        });
    }
    ensure_replaceable(&config.out)?;

    let staging = staging_dir(&config.out)?;
    if staging.exists() {
        ensure_replaceable(&staging)?;
        fs::remove_dir_all(&staging).ctx(|| format!("removing {}", staging.display()))?;
    }
    let summary = build(&staging, &inputs, &modules, &versions, fingerprint)?;
    summary.store(&staging)?;

    if config.out.exists() {
        fs::remove_dir_all(&config.out)
            .ctx(|| format!("removing the old layout {}", config.out.display()))?;
    }
    fs::rename(&staging, &config.out)
        .ctx(|| format!("moving {} to {}", staging.display(), config.out.display()))?;
    Ok(Outcome {
        summary,
        reused: false,
    })
}

fn select_versions(requested: &[String]) -> Result<Vec<TalosVersion>> {
    let all = fixtures::versions();
    if requested.is_empty() {
        return Ok(all);
    }
    let mut selected = Vec::new();
    for tag in requested {
        let found = TalosVersion::from_str(tag)
            .ok()
            .filter(|v| all.contains(v))
            .ok_or_else(|| Error::UnknownVersion {
                requested: tag.clone(),
                known: VERSIONS.join(", "),
            })?;
        if !selected.contains(&found) {
            selected.push(found);
        }
    }
    selected.sort();
    Ok(selected)
}

/// The summary of `out` if it is a complete layout with `fingerprint`.
fn current_layout(out: &Path, fingerprint: &str) -> Option<Summary> {
    let summary = Summary::load(out).ok()?;
    let complete = summary.fingerprint == fingerprint
        && out.join("index.json").is_file()
        && summary
            .images
            .iter()
            .all(|image| blob_path(out, &image.digest).is_file());
    complete.then_some(summary)
}

fn blob_path(layout: &Path, digest: &Digest) -> PathBuf {
    layout
        .join("blobs")
        .join(digest.algorithm().as_str())
        .join(digest.hex())
}

/// Refuses to touch a directory that holds anything but our own layout.
fn ensure_replaceable(dir: &Path) -> Result<()> {
    if !dir.exists() || dir.join(SUMMARY_FILE).is_file() {
        return Ok(());
    }
    let mut entries = fs::read_dir(dir).ctx(|| format!("listing {}", dir.display()))?;
    let unfinished_ours = dir.join("oci-layout").is_file()
        && dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".partial"));
    if entries.next().is_none() || unfinished_ours {
        return Ok(());
    }
    Err(Error::ForeignOutput {
        path: dir.to_owned(),
    })
}

fn staging_dir(out: &Path) -> Result<PathBuf> {
    let name = out
        .file_name()
        .ok_or_else(|| Error::ForeignOutput {
            path: out.to_owned(),
        })?
        .to_string_lossy()
        .into_owned();
    Ok(out.with_file_name(format!("{name}.partial")))
}

fn build(
    dir: &Path,
    inputs: &DebianInputs,
    modules: &[KernelModule],
    versions: &[TalosVersion],
    fingerprint: String,
) -> Result<Summary> {
    let mut layout = Layout::create(dir)?;
    let work = dir.join(".work");
    fs::create_dir_all(&work).ctx(|| format!("creating {}", work.display()))?;
    let release = &inputs.kernel_release;

    let overlay = overlay::write_overlay(&mut layout)?;

    // Each extension image once, built for the first version listing it.
    let mut extension_digests: BTreeMap<String, Digest> = BTreeMap::new();
    for version in versions {
        for fixture in fixtures::extensions(version) {
            if let Entry::Vacant(slot) = extension_digests.entry(fixture.reference()) {
                let index = extension::write_extension(&mut layout, &fixture, version, release)?;
                slot.insert(index.digest);
            }
        }
    }

    let shared = imager::shared_layers(&mut layout, inputs)?;
    for version in versions {
        let amd64 = boot_assets(&work, version, Arch::Amd64, inputs, modules)?;
        let arm64 = boot_assets(&work, version, Arch::Arm64, inputs, &[])?;
        imager::write_imager(
            &mut layout,
            &shared,
            version,
            &[(Arch::Amd64, &amd64), (Arch::Arm64, &arm64)],
        )?;
        installer::write_installer(&mut layout, version)?;
        let entries: Vec<(ExtensionFixture, Digest)> = fixtures::extensions(version)
            .into_iter()
            .filter_map(|fixture| {
                let digest = extension_digests.get(&fixture.reference())?.clone();
                Some((fixture, digest))
            })
            .collect();
        catalog::write_extensions_catalog(&mut layout, version, &entries)?;
        catalog::write_overlays_catalog(&mut layout, version, &overlay.digest)?;
        for file in [&amd64, &arm64] {
            fs::remove_file(file).ctx(|| format!("removing {}", file.display()))?;
        }
    }
    fs::remove_dir_all(&work).ctx(|| format!("removing {}", work.display()))?;

    // Sign every image, as upstream does: once per repository and digest
    // (tags sharing a digest share its signature, as with cosign).
    let mut to_sign: BTreeMap<(String, Digest), Descriptor> = BTreeMap::new();
    for (reference, descriptor) in layout.tags() {
        let repository = reference
            .rsplit_once(':')
            .map_or(reference.as_str(), |(repository, _)| repository);
        to_sign
            .entry((repository.to_owned(), descriptor.digest.clone()))
            .or_insert_with(|| descriptor.clone());
    }
    for ((repository, _), descriptor) in &to_sign {
        signing::sign(&mut layout, repository, descriptor)?;
    }
    let public_key = dir.join(PUBLIC_KEY_FILE);
    fs::write(&public_key, public_key_pem()?)
        .ctx(|| format!("writing {}", public_key.display()))?;

    let images = layout
        .tags()
        .iter()
        .map(|(reference, descriptor)| TaggedImage {
            reference: reference.clone(),
            digest: descriptor.digest.clone(),
            media_type: descriptor.media_type.clone(),
        })
        .collect();
    layout.finish()?;
    Ok(Summary {
        fingerprint,
        kernel_release: release.clone(),
        versions: versions.iter().map(ToString::to_string).collect(),
        images,
    })
}

/// Builds `rootfs.sqsh` and the initramfs of `version`/`arch` in `work`;
/// returns the initramfs path.
fn boot_assets(
    work: &Path,
    version: &TalosVersion,
    arch: Arch,
    inputs: &DebianInputs,
    modules: &[KernelModule],
) -> Result<PathBuf> {
    let release = match arch {
        Arch::Amd64 => inputs.kernel_release.clone(),
        Arch::Arm64 => arm64_kernel_release(&inputs.kernel_release),
    };
    let rootfs = work.join(format!("rootfs-{version}-{arch}.sqsh"));
    write_rootfs(
        &RootfsSpec {
            version,
            arch,
            kernel_release: &release,
            modules,
            modules_dir: (arch == Arch::Amd64).then_some(inputs.modules_dir.as_path()),
        },
        &rootfs,
    )?;
    let payload = BootPayload {
        busybox: &inputs.busybox,
        modules,
        kernel_release: &release,
    };
    let initramfs = work.join(format!("initramfs-{version}-{arch}.xz"));
    write_initramfs(
        version,
        arch,
        (arch == Arch::Amd64).then_some(&payload),
        &rootfs,
        &initramfs,
    )?;
    fs::remove_file(&rootfs).ctx(|| format!("removing {}", rootfs.display()))?;
    Ok(initramfs)
}
