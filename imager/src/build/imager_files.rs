//! Files out of the upstream `imager` image: the kernel, the base
//! initramfs and the systemd stubs under `/usr/install/<arch>/`.
//!
//! They are streamed out of the image's layers (the last layer holding the
//! path wins, as in a flattened image) into a file, never held in memory.

use std::io::Read;
use std::path::Path;

use factory_core::arch::Arch;
use factory_core::version::TalosVersion;

use crate::catalog::IMAGER_REPOSITORY;
use crate::extension::open_layer;
use crate::pull::Puller;

use super::BuildError;

/// The largest file taken from the imager image (a Talos initramfs is about
/// 100 MiB; anything much larger is not what we expect).
pub const IMAGER_FILE_LIMIT: u64 = 1024 * 1024 * 1024;

/// Writes `/usr/install/<arch>/<name>` of `imager:<version>` (for `arch`) to `dest`.
pub async fn imager_file(
    puller: &Puller,
    version: &TalosVersion,
    arch: Arch,
    name: &str,
    dest: &Path,
) -> Result<(), BuildError> {
    let image = puller
        .image_for_arch(IMAGER_REPOSITORY, &version.tag(), arch)
        .await?;
    let mut layers = Vec::with_capacity(image.layers.len());
    for layer in &image.layers {
        layers.push(puller.blob(IMAGER_REPOSITORY, layer).await?);
    }
    let wanted = format!("usr/install/{arch}/{name}");
    let digest = image.digest.to_string();
    let dest = dest.to_owned();
    tokio::task::spawn_blocking(move || {
        // Search from the top layer down; the first hit is the visible file.
        for layer in layers.iter().rev() {
            if extract(layer, &wanted, &dest)? {
                return Ok(());
            }
        }
        Err(BuildError::MissingFile {
            repository: IMAGER_REPOSITORY.to_owned(),
            digest,
            path: wanted,
        })
    })
    .await
    .map_err(|e| BuildError::Io {
        action: "joining the extraction task for",
        path: std::path::PathBuf::from(name),
        source: std::io::Error::other(e.to_string()),
    })?
}

/// Copies `wanted` out of one layer blob into `dest`; false if the layer does
/// not hold it as a regular file.
fn extract(layer: &Path, wanted: &str, dest: &Path) -> Result<bool, BuildError> {
    let file = std::fs::File::open(layer).map_err(BuildError::io("opening", layer))?;
    let (_, reader) =
        open_layer(std::io::BufReader::new(file)).map_err(BuildError::io("reading", layer))?;
    let mut archive = tar::Archive::new(reader);
    for entry in archive
        .entries()
        .map_err(BuildError::io("reading", layer))?
    {
        let entry = entry.map_err(BuildError::io("reading", layer))?;
        let path = entry
            .path()
            .map_err(BuildError::io("reading", layer))?
            .to_string_lossy()
            .into_owned();
        if path.trim_start_matches("./").trim_start_matches('/') != wanted
            || !entry.header().entry_type().is_file()
        {
            continue;
        }
        if entry.size() > IMAGER_FILE_LIMIT {
            return Err(BuildError::TooLarge {
                repository: IMAGER_REPOSITORY.to_owned(),
                path: wanted.to_owned(),
                limit: IMAGER_FILE_LIMIT,
            });
        }
        let mut out = std::fs::File::create(dest).map_err(BuildError::io("creating", dest))?;
        let mut limited = entry.take(IMAGER_FILE_LIMIT);
        std::io::copy(&mut limited, &mut out).map_err(BuildError::io("writing", dest))?;
        out.sync_all().map_err(BuildError::io("syncing", dest))?;
        return Ok(true);
    }
    Ok(false)
}
