//! Reading a few small files out of an image's layers.
//!
//! Catalog images (`extensions`, `overlays`) are data carried as image
//! layers. We want a handful of named files from them, so layers are read as
//! tar streams (plain, gzip or zstd, by media type), later layers overriding
//! earlier ones, and each wanted file is bounded in size.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use factory_core::registry::Descriptor;

use super::CatalogError;

/// The largest catalog file we read.
pub(crate) const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads the files named in `wanted` (paths inside the image, without a
/// leading `/`) from the layer blobs at `paths` (bottom layer first).
pub(crate) fn read_files(
    layers: &[(Descriptor, std::path::PathBuf)],
    wanted: &[&str],
) -> Result<BTreeMap<String, Vec<u8>>, CatalogError> {
    let mut found = BTreeMap::new();
    for (descriptor, path) in layers {
        let reader = open_layer(descriptor, path)?;
        let mut archive = tar::Archive::new(reader);
        let entries = archive
            .entries()
            .map_err(|e| CatalogError::layer(path, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| CatalogError::layer(path, e))?;
            let name = entry
                .path()
                .map_err(|e| CatalogError::layer(path, e))?
                .to_string_lossy()
                .into_owned();
            let name = name
                .trim_start_matches("./")
                .trim_start_matches('/')
                .to_owned();
            if !wanted.contains(&name.as_str()) || !entry.header().entry_type().is_file() {
                continue;
            }
            let size = entry.size();
            if size > MAX_FILE_BYTES {
                return Err(CatalogError::TooLarge {
                    file: name,
                    size,
                    limit: MAX_FILE_BYTES,
                });
            }
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| CatalogError::layer(path, e))?;
            found.insert(name, bytes);
        }
    }
    Ok(found)
}

fn open_layer(descriptor: &Descriptor, path: &Path) -> Result<Box<dyn Read>, CatalogError> {
    let file = std::fs::File::open(path).map_err(|e| CatalogError::layer(path, e))?;
    let file = std::io::BufReader::new(file);
    let media_type = descriptor.media_type.as_str();
    if media_type.ends_with("gzip") {
        Ok(Box::new(flate2::read::GzDecoder::new(file)))
    } else if media_type.ends_with("zstd") {
        Ok(Box::new(
            zstd::stream::read::Decoder::new(file).map_err(|e| CatalogError::layer(path, e))?,
        ))
    } else if media_type.ends_with(".tar") {
        Ok(Box::new(file))
    } else {
        Err(CatalogError::UnsupportedLayer {
            media_type: media_type.to_owned(),
        })
    }
}
