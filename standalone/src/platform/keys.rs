//! The signing key: loaded from its PEM file, or generated on first start.
//!
//! A generated key is written as PKCS#8 PEM with mode 0600 to a temporary
//! file beside its final name, fsynced and renamed, so a crash never leaves
//! a half-written key that a restart would refuse (or, worse, replace with a
//! new key and orphan every signed record).

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use factory_imager::signing::{MAX_KEY_PEM_LEN, SigningKey};

use super::error::OpenError;

/// Reads the key at `path`, or generates and saves one if there is none.
pub(crate) fn load_or_generate(path: &Path) -> Result<SigningKey, OpenError> {
    match std::fs::File::open(path) {
        Ok(file) => {
            let mut pem = String::new();
            file.take(MAX_KEY_PEM_LEN as u64 + 1)
                .read_to_string(&mut pem)
                .map_err(OpenError::io("reading", path))?;
            SigningKey::from_pem(&pem).map_err(|source| OpenError::Key {
                path: path.to_owned(),
                source,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => generate(path),
        Err(e) => Err(OpenError::io("opening", path)(e)),
    }
}

fn generate(path: &Path) -> Result<SigningKey, OpenError> {
    let key_error = |source| OpenError::Key {
        path: path.to_owned(),
        source,
    };
    let key = SigningKey::generate().map_err(key_error)?;
    let pem = key.to_pkcs8_pem().map_err(key_error)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(OpenError::io("creating", dir))?;
    let temp = dir.join(format!(
        ".signing-key-{}.tmp",
        uuid::Uuid::new_v4().simple()
    ));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(OpenError::io("creating", &temp))?;
        file.write_all(pem.as_bytes())
            .map_err(OpenError::io("writing", &temp))?;
        file.sync_all().map_err(OpenError::io("syncing", &temp))?;
        std::fs::rename(&temp, path).map_err(OpenError::io("renaming into", path))?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(OpenError::io("syncing directory", dir))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    tracing::info!(path = %path.display(), key_id = %key.key_id(), "generated a new signing key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn generates_once_with_mode_0600_then_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/signing-key.pem");
        let first = load_or_generate(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load_or_generate(&path).unwrap();
        assert_eq!(first.key_id(), again.key_id());
    }

    #[test]
    fn refuses_a_file_that_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            load_or_generate(&path),
            Err(OpenError::Key { .. })
        ));
    }
}
