//! The statement a builder signs about an artifact it built.
//!
//! Every builder (the standalone binary, the Lambda) states the same facts
//! the same way: the size and digests it measured, the content type and
//! file name the output path implies. Written once so a record made by one
//! builder reads exactly like a record made by the other.

use factory_core::asset_key::AssetKey;
use factory_core::mime;
use factory_core::profile::BuildProfile;
use factory_core::record::AssetStatement;

use super::BuiltArtifact;

impl BuiltArtifact {
    /// What to sign about this artifact, built for `key` from `profile`,
    /// finished at `built_at` (Unix seconds).
    pub fn statement(
        &self,
        key: &AssetKey,
        profile: &BuildProfile,
        built_at: u64,
    ) -> AssetStatement {
        let file_name = profile.output.file_name();
        AssetStatement {
            key: key.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            sha512: self.sha512.clone(),
            media_type: mime::content_type(&file_name).to_owned(),
            file_name,
            built_at,
        }
    }
}
