//! The extensions of a profile, pulled and loaded in layering order:
//! official extensions as the schematic lists them, then the schematic's
//! virtual extension, then the embedded machine configuration (as upstream's
//! factory and imager append them).

use std::path::Path;

use factory_core::profile::BuildProfile;
use factory_core::schematic::Schematic;

use crate::extension::{Extension, Limits, flatten_layers};
use crate::initramfs::{
    embedded_config_extension_tar, load_virtual_extension, schematic_extension_tar,
};

use super::{BuildContext, BuildError};

/// Pulls and loads every extension `profile` needs, blobs under `work`.
pub(super) async fn load_all(
    ctx: &BuildContext<'_>,
    profile: &BuildProfile,
    schematic: &Schematic,
    work: &Path,
) -> Result<Vec<Extension>, BuildError> {
    let limits = Limits::default();
    let mut loaded = Vec::with_capacity(profile.extensions.len() + 2);
    for (index, entry) in profile.extensions.iter().enumerate() {
        let image = ctx
            .puller
            .image_for_arch(&entry.name, &entry.digest, profile.output.arch)
            .await?;
        let mut blobs = Vec::with_capacity(image.layers.len());
        for layer in &image.layers {
            blobs.push(ctx.puller.blob(&entry.name, layer).await?);
        }
        let dir = work.join(format!("extension-{index}"));
        let name = entry.name.clone();
        let fail = move |reason: String| BuildError::Extension { name, reason };
        let extension = tokio::task::spawn_blocking(move || {
            let files = blobs
                .iter()
                .map(|path| std::fs::File::open(path).map(std::io::BufReader::new))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            let tree = flatten_layers(files, &dir, &limits).map_err(|e| e.to_string())?;
            Extension::load(tree, &limits).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
        .map_err(fail)?;
        loaded.push(extension);
    }

    let virtual_ext = |name: &str, tarball: std::io::Result<Vec<u8>>, dir: &Path| {
        let fail = |reason: String| BuildError::Extension {
            name: name.to_owned(),
            reason,
        };
        let tarball = tarball.map_err(|e| fail(e.to_string()))?;
        load_virtual_extension(&tarball, dir, &limits).map_err(|e| fail(e.to_string()))
    };
    if profile.schematic_id.is_some() {
        let tarball = schematic_extension_tar(schematic, &profile.version, ctx.external_url);
        loaded.push(virtual_ext(
            "schematic",
            tarball,
            &work.join("extension-schematic"),
        )?);
    }
    if let Some(config) = &profile.embedded_config {
        let tarball = embedded_config_extension_tar(config.as_bytes());
        loaded.push(virtual_ext(
            "embedded-config",
            tarball,
            &work.join("extension-config"),
        )?);
    }
    Ok(loaded)
}
