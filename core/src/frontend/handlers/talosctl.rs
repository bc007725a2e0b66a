//! `/talosctl/:version[/:file]`: the talosctl binaries of a release (≥1.11).

use http::StatusCode;

use crate::quirks::Quirks;
use crate::url::join_url;

use super::super::error::ApiError;
use super::super::response::{self, Response};
use super::super::{Frontend, Platform, Request};
use super::image::Source;
use super::parse_version;

impl<P: Platform> Frontend<P> {
    pub(super) async fn talosctl_list(
        &self,
        raw_version: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let version = parse_version(raw_version)?;
        if !Quirks::new(&version).supports_factory_talosctl_download() {
            return Ok(response::go_json(StatusCode::OK, &Vec::<String>::new()));
        }
        let version = self.ensure_available(version).await?;
        let mut names = self.platform.talosctl_binaries(&version).await?;
        names.sort();
        let urls: Vec<String> = names
            .iter()
            .map(|name| {
                join_url(
                    &self.config.external_url,
                    &["talosctl", &version.tag(), name],
                )
            })
            .collect();
        Ok(response::go_json(StatusCode::OK, &urls))
    }

    pub(super) async fn talosctl(
        &self,
        request: &Request,
        raw_version: &str,
        name: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let version = parse_version(raw_version)?;
        if !Quirks::new(&version).supports_factory_talosctl_download() {
            return Err(ApiError::version_not_available(&version));
        }
        let version = self.ensure_available(version).await?;
        let record = self
            .platform
            .talosctl_asset(&version, name)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!("talosctl binary {name:?} not found for {version}"))
            })?;
        // Go's extension table has no entry for these names in a scratch image.
        self.serve(
            request,
            Source::Stored(record),
            name,
            "application/octet-stream",
        )
        .await
    }
}
