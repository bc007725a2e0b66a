//! `POST /schematics` and `GET /schematics/:id`.
//!
//! The 201 of a POST is marked [`Cacheable::Immutable`]: it is a function
//! of the request body alone, and the schematic is stored before it is sent.

use http::StatusCode;

use crate::schematic::{MAX_SCHEMATIC_BYTES, Schematic, SchematicId};

use super::super::error::ApiError;
use super::super::response::{self, Cacheable, Response};
use super::super::{Frontend, Platform, Request};

#[derive(serde::Serialize)]
struct Created<'a> {
    id: &'a str,
    schematic: &'a str,
}

impl<P: Platform> Frontend<P> {
    pub(super) async fn create_schematic(
        &self,
        request: &Request,
    ) -> Result<Response<P::Object>, ApiError> {
        let body = request.body();
        if body.len() > MAX_SCHEMATIC_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("schematic is too large: the limit is {MAX_SCHEMATIC_BYTES} bytes"),
            ));
        }
        let schematic = Schematic::parse(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let yaml = schematic.canonical_yaml();
        let id = SchematicId::of_canonical_yaml(&yaml);
        self.platform.put_schematic(&id, &yaml).await?;
        let mut r = response::go_json(
            StatusCode::CREATED,
            &Created {
                id: id.as_str(),
                schematic: &yaml,
            },
        );
        if r.status() == StatusCode::CREATED {
            response::mark_cacheable(&mut r, Cacheable::Immutable);
        }
        Ok(r)
    }

    pub(super) async fn get_schematic(&self, id: &str) -> Result<Response<P::Object>, ApiError> {
        let not_found = || ApiError::not_found("schematic not found");
        let parsed: SchematicId = id.parse().map_err(|_| not_found())?;
        let yaml = self
            .platform
            .get_schematic(&parsed)
            .await?
            .ok_or_else(not_found)?;
        Ok(response::with_body(
            StatusCode::OK,
            "application/yaml",
            yaml,
        ))
    }
}
