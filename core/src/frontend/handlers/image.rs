//! `GET|HEAD /image/:schematic/:version/:path`: boot assets and their checksums.
//!
//! The order of checks follows upstream so that the same bad request gets the
//! same answer: unknown schematic (404), malformed version (400, upstream
//! 500), unparsable path (400), unavailable version (404), then the
//! schematic/version checks of the profile (400). The kernel command line is
//! pure, so `cmdline-*` is computed here without a build; every other asset
//! comes from the platform by its content address.

use bytes::Bytes;
use http::{StatusCode, header};
use sha2::{Digest as _, Sha256, Sha512};

use crate::asset_key::asset_key;
use crate::image_path::{self, Checksum, OutputKind};
use crate::mime;
use crate::profile::BuildProfile;

use super::super::error::ApiError;
use super::super::platform::{AssetRecord, Delivery, DeliveryRequest};
use super::super::range::{self, RangeRequest};
use super::super::response::{self, Body, Response};
use super::super::{Frontend, Platform, Request};
use super::query_param;

/// What is being served: bytes made here, or a stored asset.
pub(super) enum Source {
    Inline(Bytes),
    Stored(AssetRecord),
}

impl<P: Platform> Frontend<P> {
    pub(super) async fn image(
        &self,
        request: &Request,
        schematic_id: &str,
        raw_version: &str,
        path: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let (asset_path, checksum) = image_path::split_checksum_suffix(path);
        let (_, profile) = self
            .resolve_profile(schematic_id, raw_version, asset_path)
            .await?;
        let source = if profile.output.kind == OutputKind::Cmdline {
            Source::Inline(Bytes::from(cmdline_text(&profile)))
        } else {
            let key = asset_key(&profile);
            Source::Stored(self.platform.asset(&key, &profile).await?)
        };
        let filename = query_param(request, "filename")
            .and_then(|f| mime::sanitize_filename(&f))
            .unwrap_or_else(|| asset_path.to_owned());
        if let Some(kind) = checksum {
            return Ok(checksum_response(&source, kind, &filename));
        }
        self.serve(request, source, &filename, mime::content_type(asset_path))
            .await
    }

    pub(super) async fn serve(
        &self,
        request: &Request,
        source: Source,
        filename: &str,
        content_type: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let (size, sha256) = match &source {
            Source::Inline(bytes) => (bytes.len() as u64, hex::encode(Sha256::digest(bytes))),
            Source::Stored(record) => (record.size, record.sha256.clone()),
        };
        let etag = range::etag(&sha256);
        let header_str =
            |name: header::HeaderName| request.headers().get(name).and_then(|v| v.to_str().ok());

        let mut response = if range::if_none_match(header_str(header::IF_NONE_MATCH), &etag) {
            response::empty(StatusCode::NOT_MODIFIED)
        } else {
            let wanted = if range::if_range_allows(header_str(header::IF_RANGE), &etag) {
                range::parse_range(header_str(header::RANGE), size)
            } else {
                RangeRequest::Full
            };
            let head = request.method() == http::Method::HEAD;
            match wanted {
                RangeRequest::Unsatisfiable => {
                    let mut r = response::empty(StatusCode::RANGE_NOT_SATISFIABLE);
                    response::set_header(&mut r, header::CONTENT_RANGE, &format!("bytes */{size}"));
                    r
                }
                RangeRequest::Full | RangeRequest::Partial(_) => {
                    let part = match wanted {
                        RangeRequest::Partial(r) => Some(r),
                        _ => None,
                    };
                    let body = if head {
                        Body::Empty
                    } else {
                        match source {
                            Source::Inline(bytes) => Body::Bytes(match part {
                                Some(r) => bytes.slice(r.start as usize..=r.end as usize),
                                None => bytes,
                            }),
                            Source::Stored(record) => {
                                let delivery = DeliveryRequest {
                                    filename,
                                    content_type,
                                    range: part,
                                    allow_redirect: !self.on_pxe_host(request),
                                };
                                match self.platform.deliver(&record, delivery).await? {
                                    Delivery::Redirect(url) => {
                                        return Ok(redirect(StatusCode::FOUND, &url));
                                    }
                                    Delivery::Stream(object) => Body::Object(object),
                                }
                            }
                        }
                    };
                    let mut r = http::Response::new(body);
                    match part {
                        Some(p) => {
                            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                            response::set_header(
                                &mut r,
                                header::CONTENT_RANGE,
                                &p.content_range(size),
                            );
                            response::set_header(
                                &mut r,
                                header::CONTENT_LENGTH,
                                &p.len().to_string(),
                            );
                        }
                        None => {
                            response::set_header(&mut r, header::CONTENT_LENGTH, &size.to_string())
                        }
                    }
                    response::set_header(&mut r, header::CONTENT_TYPE, content_type);
                    response::set_header(
                        &mut r,
                        header::CONTENT_DISPOSITION,
                        &mime::content_disposition(filename),
                    );
                    response::set_header(&mut r, header::ACCEPT_RANGES, "bytes");
                    r
                }
            }
        };
        response::set_header(&mut response, header::ETAG, &etag);
        Ok(response)
    }
}

/// The kernel command line an asset profile boots with, as `cmdline-*` serves it.
pub(super) fn cmdline_text(profile: &BuildProfile) -> String {
    profile.kernel_cmdline(&[])
}

fn checksum_response<O>(source: &Source, kind: Checksum, filename: &str) -> Response<O> {
    let hex = match (source, kind) {
        (Source::Inline(bytes), Checksum::Sha256) => hex::encode(Sha256::digest(bytes)),
        (Source::Inline(bytes), Checksum::Sha512) => hex::encode(Sha512::digest(bytes)),
        (Source::Stored(record), Checksum::Sha256) => record.sha256.clone(),
        (Source::Stored(record), Checksum::Sha512) => record.sha512.clone(),
    };
    response::with_body(
        StatusCode::OK,
        response::TEXT_PLAIN,
        mime::checksum_line(&hex, filename),
    )
}

/// A redirect the way Go's `http.Redirect` writes it for GET.
pub(super) fn redirect<O>(status: StatusCode, location: &str) -> Response<O> {
    let text = status.canonical_reason().unwrap_or("");
    let escaped = location
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;");
    let mut r = response::with_body(
        status,
        "text/html; charset=utf-8",
        format!("<a href=\"{escaped}\">{text}</a>.\n"),
    );
    response::set_header(&mut r, header::LOCATION, location);
    r
}
