//! Upstream's schematic ID vectors (`pkg/schematic/schematic_test.go` and
//! `internal/profile/profile_test.go`): each input is parsed, from YAML
//! and/or JSON, and must give exactly upstream's canonical bytes and ID.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use factory_core::schematic::{
    Customization, MetaValue, Overlay, Schematic, SchematicId, SecureBoot, SystemExtensions,
};

struct Vector {
    inputs: &'static [&'static str],
    canonical: &'static str,
    id: &'static str,
}

const VECTORS: &[Vector] = &[
    Vector {
        inputs: &[
            "{}",
            "customization: {}",
            "customization: {\"extraKernelArgs\": []}",
            "{\"customization\": {\"extraKernelArgs\": []}}",
        ],
        canonical: "customization: {}\n",
        id: "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba",
    },
    Vector {
        inputs: &[
            "customization:\n  extraKernelArgs:\n    - noapic\n    - nolapic\n",
            "{\"customization\": {\"extraKernelArgs\": [\"noapic\", \"nolapic\"]}}",
            "{\"customization\": {\"extraKernelArgs\": [\"noapic\", \"nolapic\"], \"systemExtensions\": {}}}",
        ],
        canonical: "customization:\n    extraKernelArgs:\n        - noapic\n        - nolapic\n",
        id: "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
    },
    Vector {
        inputs: &[
            "customization:\n  meta:\n    - key: 0xa\n      value: foo\n",
            "{\"customization\": {\"meta\": [{\"key\": 10, \"value\": \"foo\"}], \"extraKernelArgs\": [], \"systemExtensions\": {}}}",
        ],
        canonical: "customization:\n    meta:\n        - key: 10\n          value: foo\n",
        id: "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f",
    },
    Vector {
        inputs: &[
            "{\"customization\":{\"secureboot\": {\"includeWellKnownCertificates\": true}}}",
            "customization:\n  secureboot:\n    includeWellKnownCertificates: true\n",
        ],
        canonical: "customization:\n    secureboot:\n        includeWellKnownCertificates: true\n",
        id: "fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6",
    },
    Vector {
        inputs: &[
            "customization:\n  diskImage:\n    sectorSize: 4096\n",
            "{\"customization\": {\"diskImage\": {\"sectorSize\": 4096}}}",
        ],
        canonical: "customization:\n    diskImage:\n        sectorSize: 4096\n",
        id: "92833e9ddd9bb9e11b2464fa5525429f01866306d52ebd882ee08d7918f6d1ea",
    },
    Vector {
        inputs: &[
            "{\"overlay\": {\"name\": \"rpi_generic\", \"image\": \"siderolabs/sbc-raspberrypi\"}}",
            "{\"overlay\": {\"name\": \"rpi_generic\", \"image\": \"siderolabs/sbc-raspberrypi\"},\"customization\":{}}",
        ],
        canonical: "overlay:\n    image: siderolabs/sbc-raspberrypi\n    name: rpi_generic\ncustomization: {}\n",
        id: "ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9",
    },
    // profile_test.go
    Vector {
        inputs: &[
            "customization:\n  extraKernelArgs: [noapic, nolapic]\n  meta:\n    - key: 0xa\n      value: foo\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/amd-ucode\n      - siderolabs/intel-ucode\n",
        ],
        canonical: "customization:\n    extraKernelArgs:\n        - noapic\n        - nolapic\n    meta:\n        - key: 10\n          value: foo\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/amd-ucode\n            - siderolabs/intel-ucode\n",
        id: "6ba13d510dcc57f233b9b498d34a3c919c1abdd5675b46ad53cf4f2e66362f82",
    },
    Vector {
        inputs: &[
            "overlay:\n  name: rpi_generic\n  image: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0\ncustomization:\n  extraKernelArgs: [noapic, nolapic]\n  systemExtensions:\n    officialExtensions: [siderolabs/amd-ucode, siderolabs/intel-ucode]\n",
        ],
        canonical: "overlay:\n    image: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0\n    name: rpi_generic\ncustomization:\n    extraKernelArgs:\n        - noapic\n        - nolapic\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/amd-ucode\n            - siderolabs/intel-ucode\n",
        id: "1da25204d18e6db95cb65ce2e38424b2ad94b2519a53aef34e45f07cc73ca5e8",
    },
    Vector {
        inputs: &[
            "{\"customization\": {\"systemExtensions\": {\"officialExtensions\": [\"siderolabs/nvidia-container-toolkit\", \"siderolabs/nvidia-open-gpu-kernel-modules\", \"siderolabs/nonfree-kmod-nvidia\", \"siderolabs/nvidia-fabricmanager\", \"siderolabs/i915-ucode\", \"siderolabs/amdgpu-firmware\"]}}}",
        ],
        canonical: "customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/nvidia-container-toolkit\n            - siderolabs/nvidia-open-gpu-kernel-modules\n            - siderolabs/nonfree-kmod-nvidia\n            - siderolabs/nvidia-fabricmanager\n            - siderolabs/i915-ucode\n            - siderolabs/amdgpu-firmware\n",
        id: "42c5a897579913a97ad7edc56c0d858bc4dd8639951e02b084edbb2e190a7898",
    },
    Vector {
        inputs: &[
            "{\"customization\": {\"embeddedMachineConfiguration\": \"apiVersion: v1alpha1\\nkind: HostnameConfig\\nhostname: worker-33\"}}",
            "customization:\n  embeddedMachineConfiguration: |-\n    apiVersion: v1alpha1\n    kind: HostnameConfig\n    hostname: worker-33\n",
        ],
        canonical: "customization:\n    embeddedMachineConfiguration: |-\n        apiVersion: v1alpha1\n        kind: HostnameConfig\n        hostname: worker-33\n",
        id: "02f29f9a702fceec4fc2e2e51314d63710fc1b192ebb1629ac12301949d49c8c",
    },
];

#[test]
fn upstream_vectors_parse_to_the_same_bytes_and_id() {
    for vector in VECTORS {
        for input in vector.inputs {
            let schematic = Schematic::parse(input.as_bytes())
                .unwrap_or_else(|e| panic!("parsing {input:?}: {e}"));
            assert_eq!(
                schematic.canonical_yaml(),
                vector.canonical,
                "input {input:?}"
            );
            assert_eq!(schematic.id().as_str(), vector.id, "input {input:?}");
        }
        // The canonical bytes hash to the ID and are a fixed point.
        assert_eq!(
            SchematicId::of_canonical_yaml(vector.canonical).as_str(),
            vector.id
        );
        let again = Schematic::parse(vector.canonical.as_bytes()).unwrap();
        assert_eq!(again.canonical_yaml(), vector.canonical);
    }
}

#[test]
fn upstream_go_struct_vectors() {
    // The same vectors built as upstream's tests build the Go structs.
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let cases: Vec<(Schematic, &str)> = vec![
        (
            Schematic::default(),
            "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba",
        ),
        (
            Schematic {
                customization: Customization {
                    extra_kernel_args: args(&["noapic", "nolapic"]),
                    ..Customization::default()
                },
                ..Schematic::default()
            },
            "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c",
        ),
        (
            Schematic {
                customization: Customization {
                    meta: vec![MetaValue {
                        key: 0x0a,
                        value: "foo".into(),
                    }],
                    ..Customization::default()
                },
                ..Schematic::default()
            },
            "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f",
        ),
        (
            Schematic {
                customization: Customization {
                    secureboot: SecureBoot {
                        include_well_known_certificates: true,
                        ..SecureBoot::default()
                    },
                    ..Customization::default()
                },
                ..Schematic::default()
            },
            "fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6",
        ),
        (
            Schematic {
                overlay: Overlay {
                    name: "rpi_generic".into(),
                    image: "siderolabs/sbc-raspberrypi".into(),
                    ..Overlay::default()
                },
                ..Schematic::default()
            },
            "ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9",
        ),
        (
            Schematic {
                customization: Customization {
                    extra_kernel_args: args(&["noapic", "nolapic"]),
                    meta: vec![MetaValue {
                        key: 0x0a,
                        value: "foo".into(),
                    }],
                    system_extensions: SystemExtensions {
                        official_extensions: args(&[
                            "siderolabs/amd-ucode",
                            "siderolabs/intel-ucode",
                        ]),
                    },
                    ..Customization::default()
                },
                ..Schematic::default()
            },
            "6ba13d510dcc57f233b9b498d34a3c919c1abdd5675b46ad53cf4f2e66362f82",
        ),
    ];
    for (schematic, id) in cases {
        assert_eq!(schematic.id().as_str(), id, "{schematic:?}");
    }
}

#[test]
fn overlay_with_only_a_name_keeps_an_empty_image() {
    // Overlay.Image and Overlay.Name are not omitempty upstream.
    let schematic = Schematic::parse(b"overlay: {name: rpi_generic}").unwrap();
    assert_eq!(
        schematic.canonical_yaml(),
        "overlay:\n    image: \"\"\n    name: rpi_generic\ncustomization: {}\n"
    );
}
