//! `/versions`, official extensions and overlays.

use http::StatusCode;

use crate::harness::*;

#[tokio::test]
async fn versions_and_broken_list() {
    let f = frontend();
    let r = get(&f, "/versions").await;
    assert_eq!(r.status, StatusCode::OK);
    let expected: Vec<String> = VERSIONS.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        r.text(),
        format!("{}\n", serde_json::to_string(&expected).unwrap())
    );
    let r = get(&f, "/versions?broken=true").await;
    assert_eq!(r.text(), "[\"v1.13.1\"]\n");
}

#[tokio::test]
async fn extensions_of_a_version() {
    let f = frontend();
    for v in ["v1.10.2", "1.10.2"] {
        let r = get(&f, &format!("/version/{v}/extensions/official")).await;
        assert_eq!(r.status, StatusCode::OK);
        let json = r.json();
        let names: Vec<&str> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "siderolabs/amd-ucode",
                "siderolabs/gvisor",
                "siderolabs/gasket-driver"
            ]
        );
        let first = &json[0];
        assert_eq!(first["ref"], "ghcr.io/siderolabs/amd-ucode:20230804");
        assert_eq!(first["author"], "Sidero Labs");
        assert!(first["digest"].as_str().unwrap().starts_with("sha256:"));
    }
    // Go's encoder escapes HTML characters.
    assert!(
        get(&f, "/version/v1.10.2/extensions/official")
            .await
            .text()
            .contains("\\u003ctest\\u003e \\u0026 more")
    );
}

#[tokio::test]
async fn unknown_and_malformed_versions() {
    let f = frontend();
    let r = get(&f, "/version/v1.5.0-alpha.0/extensions/official").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "version 1.5.0-alpha.0 is not available\n");
    let r = get(&f, "/version/v1.5/extensions/official").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().starts_with("invalid Talos version \"v1.5\""),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn overlays_exist_from_1_7() {
    let f = frontend();
    let r = get(&f, "/version/v1.5.1/overlays/official").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "[]\n");
    let r = get(&f, "/version/v1.7.0/overlays/official").await;
    let json = r.json();
    assert_eq!(json[0]["name"], "rpi_generic");
    assert_eq!(json[0]["image"], "siderolabs/sbc-raspberrypi");
    assert_eq!(json[0]["ref"], "ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0");
}

#[tokio::test]
async fn talosctl_downloads() {
    let f = frontend();
    let r = get(&f, "/talosctl/v1.10.2").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "[]\n");
    let r = get(&f, "/talosctl/v1.10.2/talosctl-linux-amd64").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "version 1.10.2 is not available\n");

    let f = frontend_with_talosctl(&[
        "talosctl-linux-amd64",
        "talosctl-darwin-arm64",
        "talosctl-windows-amd64.exe",
    ]);
    let r = get(&f, "/talosctl/v1.11.0").await;
    assert_eq!(
        r.json(),
        serde_json::json!([
            "http://127.0.0.1:8080/talosctl/v1.11.0/talosctl-darwin-arm64",
            "http://127.0.0.1:8080/talosctl/v1.11.0/talosctl-linux-amd64",
            "http://127.0.0.1:8080/talosctl/v1.11.0/talosctl-windows-amd64.exe"
        ])
    );
    let r = get(&f, "/talosctl/1.11.0/talosctl-linux-amd64").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"talosctl-linux-amd64\"")
    );
    assert_eq!(r.text(), "fake talosctl-linux-amd64 v1.11.0\n");
    let r = get(&f, "/talosctl/v1.11.0/talosctl-plan9-mips").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
