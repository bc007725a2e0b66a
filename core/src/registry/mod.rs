//! The pure parts of the OCI registry frontend (`/v2/...`).
//!
//! Talos pulls its installer from the factory as an ordinary container image
//! (`factory.talos.dev/metal-installer/<schematic>:v1.10.3`), so the factory
//! speaks enough of the OCI distribution API for a pull: routing, names,
//! digests, error bodies, cosign signatures and referrers. Everything here is
//! string and byte work with no I/O, so the Worker, the Lambda and the
//! standalone server share one tested implementation; the frontend does the
//! lookups, builds and redirects.
//!
//! - [`route()`]: `/v2/` paths to [`RegistryRoute`]s, as upstream's `RouteV2`.
//! - [`InstallerImage`]: `metal-installer`, `installer-secureboot`, ...
//! - [`classify_tag`]: `latest`, a version to build, or a tag to look up.
//! - [`Digest`], [`Reference`]: validated content addresses.
//! - [`OciError`], [`error_body`]: the spec's JSON error bodies.
//! - [`cosign_signature_tag`], [`simple_signing_payload`]: cosign's `.sig` format.
//! - [`referrers_index`]: the referrers API's image index.
//! - [`media_types`]: the media type strings.

mod cosign;
mod digest;
mod installer_image;
mod manifest_tag;
pub mod media_types;
mod oci_error;
mod reference;
mod referrers;
mod route;

pub use cosign::{
    SIGNATURE_ANNOTATION, SIMPLE_SIGNING_TYPE, cosign_signature_tag, simple_signing_payload,
};
pub use digest::{Digest, DigestAlgorithm, DigestError};
pub use installer_image::{InstallerImage, InvalidImage};
pub use manifest_tag::{ManifestTag, classify_tag};
pub use oci_error::{OciError, OciErrorCode, error_body};
pub use reference::{MAX_TAG_LEN, Reference, ReferenceError, is_valid_tag};
pub use referrers::{Descriptor, ImagePlatform, referrers_index, referrers_tag};
pub use route::{RegistryRoute, Resource, RouteError, SOURCE_PROXY_NAMESPACE, route};
