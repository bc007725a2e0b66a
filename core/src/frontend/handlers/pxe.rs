//! `GET /pxe/:schematic/:version/:path`: iPXE scripts.
//!
//! The script embeds the same kernel command line `cmdline-<path>` serves,
//! computed here (no build), with URLs on the PXE host so iPXE never meets a
//! redirect to an HTTPS object store.

use http::{StatusCode, header};

use crate::image_path;
use crate::ipxe;
use crate::profile::{ProfileContext, build_profile};

use super::super::error::ApiError;
use super::super::response::{self, Response};
use super::super::{Frontend, Platform};
use super::enhance_error;
use super::image::cmdline_text;

impl<P: Platform> Frontend<P> {
    pub(super) async fn pxe(
        &self,
        schematic_id: &str,
        raw_version: &str,
        path: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let (id, schematic) = self.load_schematic(schematic_id).await?;
        let version: crate::version::TalosVersion =
            raw_version.parse().map_err(|e: crate::version::InvalidVersion| ApiError::bad_request(e.to_string()))?;
        let output = image_path::parse(&format!("cmdline-{path}"))
            .map_err(|e| ApiError::bad_request(format!("error parsing profile from path: {e}")))?;
        let version = self.available_version(&version.tag()).await?;
        let release = self.release(&version).await?;
        let context = ProfileContext {
            version: &version,
            catalog: &release,
            secureboot_enabled: self.config.secureboot_enabled,
        };
        let profile =
            build_profile(output, &schematic, id.as_str(), &context).map_err(enhance_error)?;
        let cmdline = cmdline_text(&profile);
        let out = &profile.output;
        let script = if out.secureboot {
            ipxe::render_secureboot(&self.pxe_base, id.as_str(), &version, out.platform, out.arch, &cmdline)
        } else {
            ipxe::render_standard(&self.pxe_base, id.as_str(), &version, out.arch, &cmdline)
        };
        let mut r = response::with_body(StatusCode::OK, response::TEXT_PLAIN, script);
        response::set_header(&mut r, header::CACHE_CONTROL, ipxe::IPXE_CACHE_CONTROL);
        Ok(r)
    }
}
