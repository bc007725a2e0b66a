//! `POST /schematics` and `GET /schematics/:id`.

use http::{Method, StatusCode};

use crate::harness::*;

#[tokio::test]
async fn create_returns_id_and_canonical_yaml() {
    let f = frontend();
    let cases = [
        ("{}", EMPTY_ID, "customization: {}\n"),
        ("customization: {}", EMPTY_ID, "customization: {}\n"),
        (
            r#"{"customization": {"extraKernelArgs": ["noapic", "nolapic"]}}"#,
            "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
            "customization:\n    extraKernelArgs:\n        - noapic\n        - nolapic\n",
        ),
        (
            "customization:\n  meta:\n    - key: 0xa\n      value: foo\n",
            "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f",
            "customization:\n    meta:\n        - key: 10\n          value: foo\n",
        ),
    ];
    for (body, id, yaml) in cases {
        let r = send(&f, Method::POST, "/schematics", &[], body.as_bytes()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{body}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"));
        let expected = format!("{}\n", serde_json::json!({"id": id, "schematic": yaml}));
        assert_eq!(r.text(), expected);

        let r = get(&f, &format!("/schematics/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type"), Some("application/yaml"));
        assert_eq!(r.text(), yaml);
    }
}

#[tokio::test]
async fn invalid_bodies_are_400_with_upstream_text() {
    let f = frontend();
    let r = send(&f, Method::POST, "/schematics", &[], b"something:").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text(),
        "yaml: construct errors: line 1: field something not found in type schematic.Schematic\n"
    );

    let r = send(&f, Method::POST, "/schematics", &[], b"owner: alice\n").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = send(
        &f,
        Method::POST,
        "/schematics",
        &[],
        b"customization:\n  bootloader: lilo\n",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("sd-boot"), "{}", r.text());
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let f = frontend();
    let mut body = b"customization:\n  extraKernelArgs:\n".to_vec();
    while body.len() <= factory_core::frontend::MAX_REQUEST_BODY {
        body.extend_from_slice(
            b"    - aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        );
    }
    let r = send(&f, Method::POST, "/schematics", &[], &body).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_schematics_are_404() {
    let f = frontend();
    let r = get(&f, &format!("/schematics/{}", "a".repeat(64))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "schematic not found\n");
    let r = get(&f, "/schematics/not-hex").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "schematic not found\n");
}

#[tokio::test]
async fn create_is_idempotent() {
    let f = frontend();
    let a = create(&f, "customization:\n  extraKernelArgs: [a, b]\n").await;
    let b = create(&f, r#"{"customization":{"extraKernelArgs":["a","b"]}}"#).await;
    assert_eq!(a, b);
    let c = create(&f, "customization:\n  extraKernelArgs: [b, a]\n").await;
    assert_ne!(a, c, "order of kernel args is meaningful");
}
