//! `image-factory schematic id FILE`: the ID a factory would give a
//! schematic, computed offline.
//!
//! The file is parsed exactly as `POST /schematics` parses a body (same
//! limit, same strictness), so an error here is the text the factory would
//! answer with 400 (or 413 for a body over the limit).

use std::io::Read;
use std::path::{Path, PathBuf};

use factory_core::schematic::{MAX_SCHEMATIC_BYTES, Schematic, SchematicError};

/// `schematic id` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SchematicFileError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file (`-` for stdin).
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is over the factory's limit.
    #[error("schematic is too large: the limit is {MAX_SCHEMATIC_BYTES} bytes")]
    TooLarge,
    /// The factory would refuse it; the text is the factory's.
    #[error("{0}")]
    Invalid(#[from] SchematicError),
}

/// Reads and parses a schematic file (`-` reads stdin), bounded by the
/// factory's body limit.
pub(crate) fn read_schematic(path: &Path) -> Result<Schematic, SchematicFileError> {
    let read_err = |source| SchematicFileError::Read {
        path: path.to_owned(),
        source,
    };
    let limit = (MAX_SCHEMATIC_BYTES + 1) as u64;
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
    } else {
        std::fs::File::open(path)
            .map_err(read_err)?
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
    }
    if bytes.len() > MAX_SCHEMATIC_BYTES {
        return Err(SchematicFileError::TooLarge);
    }
    Ok(Schematic::parse(&bytes)?)
}

/// Prints the schematic ID of `path` on stdout.
pub(crate) fn print_id(path: &Path) -> Result<(), SchematicFileError> {
    let schematic = read_schematic(path)?;
    println!("{}", schematic.id().as_str());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_and_errors_match_the_factory() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("s.yaml");
        std::fs::write(
            &good,
            "customization:\n  extraKernelArgs: [noapic, nolapic]\n",
        )
        .unwrap();
        assert_eq!(
            read_schematic(&good).unwrap().id().as_str(),
            "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c"
        );
        let unknown = dir.path().join("u.yaml");
        std::fs::write(&unknown, "customisation: {}\n").unwrap();
        let e = read_schematic(&unknown).unwrap_err();
        assert!(e.to_string().contains("customisation"), "{e}");
        let big = dir.path().join("b.yaml");
        std::fs::write(&big, vec![b' '; MAX_SCHEMATIC_BYTES + 10]).unwrap();
        assert!(matches!(
            read_schematic(&big),
            Err(SchematicFileError::TooLarge)
        ));
        assert!(matches!(
            read_schematic(&dir.path().join("missing")),
            Err(SchematicFileError::Read { .. })
        ));
    }
}
