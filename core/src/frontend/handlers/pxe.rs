//! `GET /pxe/:schematic/:version/:path`: iPXE scripts.
//!
//! The script embeds the same kernel command line `cmdline-<path>` serves,
//! computed here (no build), with URLs on the PXE host so iPXE never meets a
//! redirect to an HTTPS object store. The script is marked
//! [`Cacheable::UntilCatalogsChange`]: the schematic is immutable, but the
//! version's availability and catalog are not.

use http::{StatusCode, header};

use crate::ipxe;

use super::super::error::ApiError;
use super::super::response::{self, Cacheable, Response};
use super::super::{Frontend, Platform};
use super::image::cmdline_text;

impl<P: Platform> Frontend<P> {
    pub(super) async fn pxe(
        &self,
        schematic_id: &str,
        raw_version: &str,
        path: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let (id, profile) = self
            .resolve_profile(schematic_id, raw_version, &format!("cmdline-{path}"))
            .await?;
        let version = &profile.version;
        let cmdline = cmdline_text(&profile);
        let out = &profile.output;
        let script = if out.secureboot {
            ipxe::render_secureboot(
                &self.pxe_base,
                id.as_str(),
                version,
                out.platform,
                out.arch,
                &cmdline,
            )
        } else {
            ipxe::render_standard(&self.pxe_base, id.as_str(), version, out.arch, &cmdline)
        };
        let mut r = response::with_body(StatusCode::OK, response::TEXT_PLAIN, script);
        response::set_header(&mut r, header::CACHE_CONTROL, ipxe::IPXE_CACHE_CONTROL);
        response::mark_cacheable(&mut r, Cacheable::UntilCatalogsChange);
        Ok(r)
    }
}
