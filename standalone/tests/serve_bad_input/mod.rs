//! Bad input through the real server: every refusal has the status and the
//! exact text the frontend maps it to (`core/src/frontend/error.rs`,
//! upstream's words), and nothing is stored: no schematic record for a
//! refused POST, no build, no new blob.
//!
//! Paths are sent with `--path-as-is` so that `..` reaches the server as
//! typed (curl would otherwise resolve it); percent-encoded forms are
//! decoded by the router into one segment and must be refused there.

use std::path::Path;

use factory_core::schematic::SchematicId;

use super::serve_support::{Factory, SCHEMATIC, Upstream, VERSION, curl};

/// The ID of the empty schematic (`customization: {}`).
const EMPTY_ID: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

/// Upstream's text for a malformed version.
fn bad_version(v: &str) -> String {
    format!(
        "invalid Talos version {v:?}: expected [v]MAJOR.MINOR.PATCH[-PRERELEASE], e.g. v1.10.3\n"
    )
}

/// Files under the blob directory (temporary files included).
fn blob_count(data: &Path) -> usize {
    std::fs::read_dir(data.join("blobs/sha256"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// GET (with `--path-as-is`) and expect `status` and exactly `text`.
fn expect(factory: &Factory, path: &str, status: u16, text: &str) {
    let r = curl(&["--path-as-is", &factory.url(path)]);
    assert_eq!((r.status, r.text().as_str()), (status, text), "GET {path}");
}

/// GET a registry path and expect `status`, an OCI `code` and `message`.
fn expect_oci(factory: &Factory, path: &str, status: u16, code: &str, message: &str) {
    let r = curl(&["--path-as-is", &factory.url(path)]);
    assert_eq!(r.status, status, "GET {path}: {}", r.text());
    let json: serde_json::Value = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {}", r.text()));
    assert_eq!(json["errors"][0]["code"], code, "GET {path}: {json}");
    assert_eq!(json["errors"][0]["message"], message, "GET {path}: {json}");
}

/// POST a body to `/schematics` and expect `status` and exactly `text`.
fn expect_post(factory: &Factory, body: &Path, status: u16, text: &str) {
    let r = curl(&[
        "--data-binary",
        &format!("@{}", body.display()),
        &factory.url("/schematics"),
    ]);
    assert_eq!(
        (r.status, r.text().as_str()),
        (status, text),
        "POST {}",
        body.display()
    );
}

#[test]
fn bad_input_is_refused_with_upstream_text_and_nothing_stored() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let factory = Factory::start(&upstream.addr, &data);
    let blobs = blob_count(&data);

    // Refused schematics, before any schematic exists.
    let body = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let malformed = body(
        "malformed.yaml",
        b"customization:\n  extraKernelArgs: [a,\n",
    );
    expect_post(
        &factory,
        &malformed,
        400,
        "go-yaml load error in parser at L3.C1: while parsing a node, did not find expected node content\n",
    );
    let unknown = body("unknown.yaml", b"something: 1\ncustomization: {}\n");
    expect_post(
        &factory,
        &unknown,
        400,
        "yaml: construct errors: line 1: field something not found in type schematic.Schematic\n",
    );
    let nested = body(
        "nested.yaml",
        b"customization:\n  extraKernelArgs: [a]\n  foo: bar\n",
    );
    expect_post(
        &factory,
        &nested,
        400,
        "yaml: construct errors: line 3: field foo not found in type schematic.Customization\n",
    );
    // 2 MiB of a valid schematic: refused for its size alone.
    let mut big = b"customization:\n  extraKernelArgs:\n".to_vec();
    let mut canonical = String::from("customization:\n    extraKernelArgs:\n");
    let mut n = 0;
    while big.len() < 2 * 1024 * 1024 {
        big.extend_from_slice(format!("    - arg{n}\n").as_bytes());
        canonical.push_str(&format!("        - arg{n}\n"));
        n += 1;
    }
    let big = body("big.yaml", &big);
    expect_post(
        &factory,
        &big,
        413,
        "schematic is too large: the limit is 1048576 bytes\n",
    );
    // None of them left a record: not the IDs they would have had if their
    // unknown fields were dropped or their size allowed.
    for id in [
        EMPTY_ID.to_owned(),
        SchematicId::of_canonical_yaml("customization:\n    extraKernelArgs:\n        - a\n")
            .as_str()
            .to_owned(),
        SchematicId::of_canonical_yaml(&canonical)
            .as_str()
            .to_owned(),
    ] {
        expect(
            &factory,
            &format!("/schematics/{id}"),
            404,
            "schematic not found\n",
        );
    }

    let id = factory.create_schematic(SCHEMATIC);
    let builds = factory.metric_sum("image_factory_builds_total");
    let misses = factory.metric("image_factory_asset_cache_misses_total");

    // Schematic IDs that are not 64 hex digits, on every route that takes one.
    for bad in ["not-hex", "ZZZZ", &"g".repeat(64), &id.to_uppercase()] {
        expect(
            &factory,
            &format!("/schematics/{bad}"),
            404,
            "schematic not found\n",
        );
        let quoted = format!("schematic ID {bad:?} not found");
        expect(
            &factory,
            &format!("/image/{bad}/{VERSION}/kernel-amd64"),
            404,
            &format!("{quoted}\n"),
        );
        expect(
            &factory,
            &format!("/pxe/{bad}/{VERSION}/metal-amd64"),
            404,
            &format!("{quoted}\n"),
        );
        expect_oci(
            &factory,
            &format!("/v2/installer/{bad}/manifests/{VERSION}"),
            404,
            "NAME_UNKNOWN",
            &quoted,
        );
    }

    // Versions: unknown (404) and malformed (400).
    let gone = "version 9.9.9 is not available";
    expect(
        &factory,
        &format!("/image/{id}/v9.9.9/kernel-amd64"),
        404,
        &format!("{gone}\n"),
    );
    expect(
        &factory,
        &format!("/pxe/{id}/v9.9.9/metal-amd64"),
        404,
        &format!("{gone}\n"),
    );
    expect(
        &factory,
        "/version/v9.9.9/extensions/official",
        404,
        &format!("{gone}\n"),
    );
    expect_oci(
        &factory,
        &format!("/v2/installer/{id}/manifests/v9.9.9"),
        404,
        "MANIFEST_UNKNOWN",
        gone,
    );
    for v in ["v1.5", "1.x.0", "latest"] {
        expect(
            &factory,
            &format!("/image/{id}/{v}/kernel-amd64"),
            400,
            &bad_version(v),
        );
        expect(
            &factory,
            &format!("/pxe/{id}/{v}/metal-amd64"),
            400,
            &bad_version(v),
        );
        expect(
            &factory,
            &format!("/version/{v}/overlays/official"),
            400,
            &bad_version(v),
        );
    }

    // Asset paths the grammar refuses, and paths no route has.
    let profile = |p: &str| format!("error parsing profile from path: {p}\n");
    expect(
        &factory,
        &format!("/image/{id}/{VERSION}/kernel-sparc"),
        400,
        &profile("invalid architecture: \"sparc\""),
    );
    expect(
        &factory,
        &format!("/image/{id}/{VERSION}/metal-amd64.ssd"),
        400,
        &profile("invalid profile path: \"metal-amd64.ssd\""),
    );
    expect(&factory, "/imagez", 404, "404 page not found\n");
    expect(
        &factory,
        &format!("/image/{id}/{VERSION}"),
        404,
        "404 page not found\n",
    );

    // Traversal in every segment, raw and percent-encoded. A raw `..` is
    // one segment the router hands to the handler (refused there); extra
    // segments match no route; `%2f` decodes inside one segment.
    let not_found = "404 page not found\n";
    for (path, status, text) in [
        // schematic segment
        (
            format!("/image/../{VERSION}/kernel-amd64"),
            404,
            "schematic ID \"..\" not found\n".to_owned(),
        ),
        (
            format!("/image/%2e%2e/{VERSION}/kernel-amd64"),
            404,
            "schematic ID \"..\" not found\n".to_owned(),
        ),
        (
            format!("/image/..%2f..%2fetc/{VERSION}/kernel-amd64"),
            404,
            "schematic ID \"../../etc\" not found\n".to_owned(),
        ),
        (
            format!("/image/../../{VERSION}/kernel-amd64"),
            404,
            not_found.to_owned(),
        ),
        (
            "/schematics/..%2f..%2fetc%2fpasswd".to_owned(),
            404,
            "schematic not found\n".to_owned(),
        ),
        // version segment
        (
            format!("/image/{id}/../kernel-amd64"),
            400,
            bad_version(".."),
        ),
        (
            format!("/image/{id}/%2e%2e%2f%2e%2e/kernel-amd64"),
            400,
            bad_version("../.."),
        ),
        (
            format!("/pxe/{id}/..%2fv1.12.4/metal-amd64"),
            400,
            bad_version("../v1.12.4"),
        ),
        (
            "/version/..%2f..%2fetc/extensions/official".to_owned(),
            400,
            bad_version("../../etc"),
        ),
        // asset path segment
        (
            format!("/image/{id}/{VERSION}/.."),
            400,
            profile("invalid profile path: \"..\""),
        ),
        (
            format!("/image/{id}/{VERSION}/%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
            400,
            profile("invalid profile path: \"../../etc/passwd\""),
        ),
        (
            format!("/image/{id}/{VERSION}/..%2fkernel-amd64"),
            400,
            profile("invalid profile path: \"../kernel-amd64\""),
        ),
        (
            format!("/image/{id}/{VERSION}/../../../etc/passwd"),
            404,
            not_found.to_owned(),
        ),
    ] {
        expect(&factory, &path, status, &text);
    }
    // Registry: traversal in the image name, the schematic and the
    // reference. The router decodes `%2f` before the registry grammar
    // splits the rest of the path, so an encoded slash is an extra segment.
    let unknown_path = |rest: &str| format!("unknown registry path: {rest:?}");
    for (path, status, code, message) in [
        (
            format!("/v2/%2e%2e/{id}/manifests/{VERSION}"),
            400,
            "NAME_INVALID",
            "invalid image: ..".to_owned(),
        ),
        (
            format!("/v2/installer/../manifests/{VERSION}"),
            404,
            "NAME_UNKNOWN",
            "schematic ID \"..\" not found".to_owned(),
        ),
        (
            format!("/v2/installer/%2e%2e/manifests/{VERSION}"),
            404,
            "NAME_UNKNOWN",
            "schematic ID \"..\" not found".to_owned(),
        ),
        (
            format!("/v2/installer/..%2f{id}/manifests/{VERSION}"),
            404,
            "NAME_UNKNOWN",
            unknown_path(&format!("installer/../{id}/manifests/{VERSION}")),
        ),
        (
            format!("/v2/installer/{id}/manifests/.."),
            404,
            "MANIFEST_UNKNOWN",
            "invalid manifest reference: ..".to_owned(),
        ),
        (
            format!("/v2/installer/{id}/manifests/%2e%2e"),
            404,
            "MANIFEST_UNKNOWN",
            "invalid manifest reference: ..".to_owned(),
        ),
        (
            format!("/v2/installer/{id}/manifests/..%2f..%2fetc"),
            404,
            "NAME_UNKNOWN",
            unknown_path(&format!("installer/{id}/manifests/../../etc")),
        ),
        (
            format!("/v2/installer/{id}/blobs/.."),
            404,
            "BLOB_UNKNOWN",
            "invalid blob digest: ..".to_owned(),
        ),
        (
            format!("/v2/installer/{id}/blobs/sha256:..%2f..%2fetc%2fpasswd"),
            404,
            "NAME_UNKNOWN",
            unknown_path(&format!("installer/{id}/blobs/sha256:../../etc/passwd")),
        ),
        (
            "/v2/../../etc/passwd".to_owned(),
            404,
            "NAME_UNKNOWN",
            unknown_path("../../etc/passwd"),
        ),
    ] {
        expect_oci(&factory, &path, status, code, &message);
    }

    // Unknown registry names.
    expect_oci(
        &factory,
        &format!("/v2/foo/{id}/manifests/{VERSION}"),
        400,
        "NAME_INVALID",
        "invalid image: foo",
    );
    expect_oci(
        &factory,
        "/v2/siderolabs/installer/manifests/v1.12.4",
        404,
        "NAME_UNKNOWN",
        "repository siderolabs/installer is not proxied by this factory",
    );
    expect_oci(
        &factory,
        "/v2/no-such-image/manifests/latest",
        404,
        "NAME_UNKNOWN",
        "unknown registry path: \"no-such-image/manifests/latest\"",
    );

    // `?filename=` with `/`, quotes, CR/LF: the header carries only the
    // last path element's safe characters, or the asset's own name.
    let kernel = factory.url(&format!("/image/{id}/{VERSION}/cmdline-metal-amd64"));
    for (name, want) in [
        ("a/b", "b"),
        ("..%2f..%2fetc%2fpasswd", "passwd"),
        ("a%5cb", "b"),
        ("a%22b%27c", "abc"),
        ("x%22%3b%20filename=evil", "x filename=evil"),
        ("a%0d%0aSet-Cookie:%20x=1", "aSet-Cookie: x=1"),
        ("%0d%0a", "cmdline-metal-amd64"),
        ("..", "cmdline-metal-amd64"),
        ("a%00b", "ab"),
    ] {
        let r = curl(&["-i", &format!("{kernel}?filename={name}")]);
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        assert_eq!(
            r.header("content-disposition"),
            Some(format!("attachment; filename=\"{want}\"").as_str()),
            "{name}"
        );
        assert!(r.header("set-cookie").is_none(), "{name}");
        // The raw head has exactly one Content-Disposition line.
        let head = r.text();
        let head = head.split("\r\n\r\n").next().unwrap();
        assert_eq!(
            head.to_ascii_lowercase()
                .matches("content-disposition:")
                .count(),
            1,
            "{name}: {head}"
        );
    }

    // Nothing above built, missed the cache or stored a blob.
    assert_eq!(factory.metric_sum("image_factory_builds_total"), builds);
    assert_eq!(
        factory.metric("image_factory_asset_cache_misses_total"),
        misses
    );
    assert_eq!(blob_count(&data), blobs);
}
