//! What differs per deployment, as one small trait.
//!
//! The frontend decides every status, header and body; a [`Platform`] only
//! answers questions that need I/O: where schematics are stored, which
//! versions and catalogs exist, how an asset is built or found, and how its
//! bytes reach the client (a stream, or a redirect to an object store).
//!
//! The trait uses `async fn` without `Send` bounds on purpose: the Cloudflare
//! Worker's futures hold JS values and are not `Send`. Concrete
//! implementations whose futures are `Send` (the standalone server on tokio)
//! keep that property, because auto traits leak through concrete types.

use bytes::Bytes;

use crate::arch::Arch;
use crate::asset_key::AssetKey;
use crate::catalog::ReleaseCatalog;
use crate::profile::BuildProfile;
use crate::registry::{Descriptor, Digest, InstallerImage, Reference};
use crate::schematic::SchematicId;
use crate::version::TalosVersion;

use super::range::ByteRange;

/// A failure of the platform's I/O, as the frontend needs to classify it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// A dependency (upstream registry, builder, storage) is unreachable or
    /// overloaded; the client may retry (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A build ran and failed; the reason is reported to the client (500).
    #[error("build failed: {0}")]
    BuildFailed(String),
    /// Anything else; logged, and answered with a generic 500.
    #[error("{0}")]
    Internal(String),
}

/// A built artifact as stored by the platform: enough to answer HEAD,
/// checksums and conditional requests without touching the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRecord {
    /// The content address of the build that produced it.
    pub key: AssetKey,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex sha256 of the bytes (also the ETag).
    pub sha256: String,
    /// Lowercase hex sha512 of the bytes.
    pub sha512: String,
}

/// How the client should receive an asset's bytes.
#[derive(Debug)]
pub enum Delivery<O> {
    /// Answer `302 Found` to this URL (object store or CDN).
    Redirect(String),
    /// Stream this object (already cut to the requested range, if any).
    Stream(O),
}

/// What the frontend asks for when it delivers an asset.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryRequest<'a> {
    /// The name the client will save the file as.
    pub filename: &'a str,
    /// The Content-Type the response carries.
    pub content_type: &'a str,
    /// The byte range to deliver, if the client asked for one.
    pub range: Option<ByteRange>,
    /// False on the PXE host (iPXE cannot follow redirects to HTTPS object
    /// stores) and for HEAD; the platform must then stream.
    pub allow_redirect: bool,
}

/// One architecture of an installer image to build or look up.
#[derive(Debug, Clone)]
pub struct InstallerArch {
    /// The architecture.
    pub arch: Arch,
    /// Its build profile.
    pub profile: BuildProfile,
    /// The profile's content address.
    pub key: AssetKey,
}

/// A request for the multi-arch installer index of one schematic and version.
#[derive(Debug, Clone)]
pub struct InstallerRequest {
    /// The requested image name (`metal-installer`, `installer-secureboot`, ...).
    pub image: InstallerImage,
    /// The schematic.
    pub schematic_id: SchematicId,
    /// The Talos version (never `latest`: already resolved).
    pub version: TalosVersion,
    /// One entry per architecture, amd64 first.
    pub arches: Vec<InstallerArch>,
}

impl InstallerRequest {
    /// The repository the index is published under (`<image>/<schematic id>`).
    pub fn repository(&self) -> String {
        self.image.repository(&self.schematic_id)
    }
}

/// A stored OCI manifest or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRecord {
    /// Its media type (the response's Content-Type).
    pub media_type: String,
    /// Its digest (the `Docker-Content-Digest` header).
    pub digest: Digest,
    /// The exact bytes.
    pub bytes: Bytes,
}

/// Where a registry blob's bytes come from.
#[derive(Debug)]
pub enum BlobDelivery<O> {
    /// Answer `307 Temporary Redirect` to this URL.
    Redirect(String),
    /// Stream this object of the given size.
    Stream {
        /// The bytes.
        object: O,
        /// Their length.
        size: u64,
    },
}

/// Readiness as `/readyz` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Everything works.
    Ready,
    /// The service answers, but something it needs is missing (the reason
    /// is the 503 body).
    NotReady(String),
}

/// The deployment-specific side of the frontend. See the module docs.
#[allow(async_fn_in_trait)]
pub trait Platform {
    /// A handle to stored bytes that the adapter knows how to stream.
    type Object;

    /// The canonical YAML of a stored schematic, if it exists.
    async fn get_schematic(&self, id: &SchematicId) -> Result<Option<String>, PlatformError>;

    /// Stores a schematic durably; returns only once a later
    /// [`get_schematic`](Platform::get_schematic) is guaranteed to find it.
    async fn put_schematic(
        &self,
        id: &SchematicId,
        canonical_yaml: &str,
    ) -> Result<(), PlatformError>;

    /// The available Talos versions (already filtered by the version policy), ascending.
    async fn versions(&self) -> Result<Vec<TalosVersion>, PlatformError>;

    /// The configured broken versions (`/versions?broken=true`).
    async fn broken_versions(&self) -> Result<Vec<TalosVersion>, PlatformError>;

    /// The catalog of one available version (extensions, overlays, input digests).
    async fn release(&self, version: &TalosVersion) -> Result<ReleaseCatalog, PlatformError>;

    /// Returns the asset for `key`, building it from `profile` if needed (and
    /// de-duplicating concurrent builds of the same key).
    async fn asset(
        &self,
        key: &AssetKey,
        profile: &BuildProfile,
    ) -> Result<AssetRecord, PlatformError>;

    /// Delivers a stored asset's bytes.
    async fn deliver(
        &self,
        record: &AssetRecord,
        request: DeliveryRequest<'_>,
    ) -> Result<Delivery<Self::Object>, PlatformError>;

    /// Returns the installer image index for a schematic and version,
    /// building and signing it if needed.
    async fn installer_index(
        &self,
        request: &InstallerRequest,
    ) -> Result<ManifestRecord, PlatformError>;

    /// A stored manifest of `repository` (`<image>/<schematic>`) by digest or
    /// by a non-version tag (cosign `sha256-<hex>.sig` tags); never builds.
    async fn manifest(
        &self,
        repository: &str,
        reference: &Reference,
    ) -> Result<Option<ManifestRecord>, PlatformError>;

    /// A stored blob of `repository`.
    async fn blob(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<BlobDelivery<Self::Object>>, PlatformError>;

    /// Manifests whose subject is `digest` (OCI 1.1 referrers).
    async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Vec<Descriptor>, PlatformError>;

    /// File names of the `talosctl` binaries published for a version
    /// (`talosctl-linux-amd64`, `talosctl-windows-arm64.exe`, ...). Only asked
    /// for versions that have them (≥1.11). By default none: upstream serves
    /// them from GitHub release assets, which a platform may not mirror.
    async fn talosctl_binaries(
        &self,
        _version: &TalosVersion,
    ) -> Result<Vec<String>, PlatformError> {
        Ok(Vec::new())
    }

    /// One `talosctl` binary as a stored asset (fetched from upstream if
    /// needed); `None` if the version has no such binary (by default, as
    /// [`talosctl_binaries`](Self::talosctl_binaries), none).
    async fn talosctl_asset(
        &self,
        _version: &TalosVersion,
        _name: &str,
    ) -> Result<Option<AssetRecord>, PlatformError> {
        Ok(None)
    }

    /// The PEM public key installer signatures verify with.
    fn cosign_public_key_pem(&self) -> Option<String>;

    /// The PEM SecureBoot signing certificate, when SecureBoot is enabled
    /// (by default it is not).
    fn secureboot_cert_pem(&self) -> Option<String> {
        None
    }

    /// A fresh request ID (a UUID in practice) for requests that bring none.
    fn new_request_id(&self) -> String;

    /// Whether the service can do its work.
    async fn readiness(&self) -> Readiness;
}
