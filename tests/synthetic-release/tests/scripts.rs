//! The shell parts of the release: the synthetic init's `/extensions.yaml`
//! reader (run with the host's awk; busybox awk runs it at boot, see
//! tests/scripts/prove-synthetic-release.sh) and a syntax check of every
//! script placed in an image.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{run, tool};

const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/assets");

fn layers(yaml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("extensions.yaml");
    std::fs::write(&file, yaml).unwrap();
    run(Command::new(tool("awk", "mawk"))
        .arg("-f")
        .arg(Path::new(ASSETS).join("extensions.awk"))
        .arg(&file))
}

#[test]
fn reads_go_yaml_layers_and_ignores_extra_info() {
    let yaml = "layers:
    - image: 0.sqsh
      metadata:
        name: gvisor
        version: 20231214.0-v1.7.0
        author: Sidero Labs
        description: |
            name: not-this
        compatibility:
            talos:
                version: '>= v1.7.0'
    - image: 1.sqsh
      metadata:
        name: schematic
        version: \"376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba\"
        author: Image Factory
        description: \"\"
        compatibility:
            talos:
                version: \"\"
        extraInfo: |
            overlay:
                image: siderolabs/sbc-raspberrypi
                name: rpi_generic
    - image: modules.dep.sqsh
      metadata:
        name: modules.dep
        version: 6.1.0-56-amd64
";
    assert_eq!(
        layers(yaml),
        "0.sqsh gvisor 20231214.0-v1.7.0\n\
         1.sqsh schematic 376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba\n\
         modules.dep.sqsh modules.dep 6.1.0-56-amd64\n"
    );
}

#[test]
fn two_space_indentation_and_empty_files_work() {
    let yaml = "layers:\n- image: 0.sqsh\n  metadata:\n    name: a\n    version: '1'\n";
    assert_eq!(layers(yaml), "0.sqsh a 1\n");
    assert_eq!(layers("layers: []\n"), "");
}

#[test]
fn every_script_parses() {
    let sh = tool("sh", "dash");
    for script in [
        "init.sh",
        "installer.sh",
        "imager.sh",
        "overlay-installer.sh",
    ] {
        run(Command::new(&sh)
            .arg("-n")
            .arg(Path::new(ASSETS).join(script)));
    }
    let scripts = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts");
    let bash = tool("bash", "bash");
    for script in [
        "fetch-debian-inputs.sh",
        "registry.sh",
        "prove-synthetic-release.sh",
    ] {
        run(Command::new(&bash)
            .arg("-n")
            .arg(Path::new(scripts).join(script)));
    }
}
