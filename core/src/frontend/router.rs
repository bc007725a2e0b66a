//! The route table, matched the way upstream's `httprouter` does.
//!
//! Upstream relies on httprouter's defaults, and clients see them: a path that
//! only differs by a trailing slash is redirected (301 for GET, 308 otherwise),
//! a known path with the wrong method gets 405 with an `Allow` header, a plain
//! `OPTIONS` gets 200 with `Allow`, and anything else the Go text
//! `404 page not found`. Parameters are single non-empty segments,
//! percent-decoded; `/v2/*path` takes the rest of the path.

use http::Method;
use percent_encoding::percent_decode_str;

/// A matched endpoint with its parameters (decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Root,
    Healthz,
    Readyz,
    LlmsTxt,
    Image {
        schematic: String,
        version: String,
        path: String,
    },
    Pxe {
        schematic: String,
        version: String,
        path: String,
    },
    /// `/v2` and `/v2/...`; `rest` is what follows `/v2/` (empty for the ping).
    Registry {
        rest: String,
    },
    CosignPublicKey,
    SchematicCreate,
    SchematicGet {
        id: String,
    },
    Versions,
    Extensions {
        version: String,
    },
    Overlays {
        version: String,
    },
    SecureBootCert,
    TalosctlList {
        version: String,
    },
    Talosctl {
        version: String,
        path: String,
    },
}

const GET_HEAD: &[Method] = &[Method::GET, Method::HEAD];
const GET: &[Method] = &[Method::GET];
const POST: &[Method] = &[Method::POST];

/// Matches a path against the table: the endpoint and the methods registered for it.
pub(crate) fn match_path(path: &str) -> Option<(Endpoint, &'static [Method])> {
    if path == "/v2" {
        return Some((
            Endpoint::Registry {
                rest: String::new(),
            },
            GET_HEAD,
        ));
    }
    if let Some(rest) = path.strip_prefix("/v2/") {
        return Some((Endpoint::Registry { rest: decode(rest) }, GET_HEAD));
    }
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let filled = |parts: [&str; 3]| parts.iter().all(|s| !s.is_empty());
    let m = match segments.as_slice() {
        [""] => (Endpoint::Root, GET_HEAD),
        ["healthz"] => (Endpoint::Healthz, GET_HEAD),
        ["readyz"] => (Endpoint::Readyz, GET_HEAD),
        ["llms.txt"] => (Endpoint::LlmsTxt, GET),
        ["image", s, v, p] if filled([s, v, p]) => (
            Endpoint::Image {
                schematic: decode(s),
                version: decode(v),
                path: decode(p),
            },
            GET_HEAD,
        ),
        ["pxe", s, v, p] if filled([s, v, p]) => (
            Endpoint::Pxe {
                schematic: decode(s),
                version: decode(v),
                path: decode(p),
            },
            GET,
        ),
        ["oci", "cosign", "signing-key.pub"] => (Endpoint::CosignPublicKey, GET),
        ["schematics"] => (Endpoint::SchematicCreate, POST),
        ["schematics", id] if !id.is_empty() => (Endpoint::SchematicGet { id: decode(id) }, GET),
        ["versions"] => (Endpoint::Versions, GET),
        ["version", v, "extensions", "official"] if !v.is_empty() => {
            (Endpoint::Extensions { version: decode(v) }, GET)
        }
        ["version", v, "overlays", "official"] if !v.is_empty() => {
            (Endpoint::Overlays { version: decode(v) }, GET)
        }
        ["secureboot", "signing-cert.pem"] => (Endpoint::SecureBootCert, GET),
        ["talosctl", v] if !v.is_empty() => (Endpoint::TalosctlList { version: decode(v) }, GET),
        ["talosctl", v, p] if !v.is_empty() && !p.is_empty() => (
            Endpoint::Talosctl {
                version: decode(v),
                path: decode(p),
            },
            GET_HEAD,
        ),
        _ => return None,
    };
    Some(m)
}

/// The path to redirect to when `path` only matches without its trailing slash.
pub(crate) fn trailing_slash_redirect(path: &str) -> Option<String> {
    let trimmed = path.strip_suffix('/').filter(|t| !t.is_empty())?;
    match_path(trimmed).is_some().then(|| trimmed.to_owned())
}

/// The `Allow` header value: registered methods plus OPTIONS, sorted as httprouter does.
pub(crate) fn allow_header(methods: &[Method]) -> String {
    let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
    names.push("OPTIONS");
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_every_route() {
        let id = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
        let cases = [
            ("/", Endpoint::Root),
            ("/healthz", Endpoint::Healthz),
            ("/readyz", Endpoint::Readyz),
            ("/llms.txt", Endpoint::LlmsTxt),
            ("/versions", Endpoint::Versions),
            ("/schematics", Endpoint::SchematicCreate),
            ("/secureboot/signing-cert.pem", Endpoint::SecureBootCert),
            ("/oci/cosign/signing-key.pub", Endpoint::CosignPublicKey),
            (
                "/v2",
                Endpoint::Registry {
                    rest: String::new(),
                },
            ),
            (
                "/v2/",
                Endpoint::Registry {
                    rest: String::new(),
                },
            ),
            (
                "/v2/installer/abc/manifests/v1.10.0",
                Endpoint::Registry {
                    rest: "installer/abc/manifests/v1.10.0".into(),
                },
            ),
        ];
        for (path, want) in cases {
            assert_eq!(match_path(path).map(|m| m.0), Some(want), "{path}");
        }
        let image = format!("/image/{id}/v1.10.0/metal-amd64.iso");
        assert_eq!(
            match_path(&image).unwrap().0,
            Endpoint::Image {
                schematic: id.into(),
                version: "v1.10.0".into(),
                path: "metal-amd64.iso".into()
            }
        );
        assert_eq!(
            match_path("/pxe/x/1.10.0/metal-%24%7Bbuildarch%7D")
                .unwrap()
                .0,
            Endpoint::Pxe {
                schematic: "x".into(),
                version: "1.10.0".into(),
                path: "metal-${buildarch}".into()
            }
        );
        assert_eq!(
            match_path("/version/v1.7.0/overlays/official").unwrap().0,
            Endpoint::Overlays {
                version: "v1.7.0".into()
            }
        );
    }

    #[test]
    fn rejects_unknown_and_malformed() {
        for path in [
            "",
            "/nope",
            "/image/a/b",
            "/image/a/b/c/d",
            "/image//v1.10.0/x",
            "/pxe/a/b/",
            "/schematics/",
            "/versions/x",
        ] {
            assert!(match_path(path).is_none(), "{path}");
        }
    }

    #[test]
    fn trailing_slashes_redirect() {
        assert_eq!(
            trailing_slash_redirect("/versions/"),
            Some("/versions".into())
        );
        assert_eq!(
            trailing_slash_redirect("/healthz/"),
            Some("/healthz".into())
        );
        assert_eq!(trailing_slash_redirect("/nope/"), None);
    }

    #[test]
    fn allow_lists_methods_sorted() {
        assert_eq!(allow_header(GET_HEAD), "GET, HEAD, OPTIONS");
        assert_eq!(allow_header(POST), "OPTIONS, POST");
    }
}
