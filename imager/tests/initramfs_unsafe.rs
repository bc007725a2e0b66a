//! Hostile extension layers: every unsafe case is refused with a typed
//! error naming the entry, and nothing is written outside the blob
//! directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod initramfs_support;

use factory_imager::extension::{
    EntryProblem, Extension, FlatTree, FlattenError, Limits, LoadError, Node, PathProblem,
    TreePath, flatten_layers,
};
use initramfs_support::{E, gzip, tar_layer};

/// Flattens `layers` in a fresh directory (returned so the blobs live as
/// long as the caller's checks).
fn flatten_in(
    layers: &[Vec<u8>],
    limits: &Limits,
) -> (tempfile::TempDir, Result<FlatTree, FlattenError>) {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    let result = flatten_layers(layers.iter().map(Vec::as_slice), &blobs, limits);
    // Nothing but blob files may appear in the work directory.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        assert_eq!(entry.unwrap().file_name(), "blobs");
    }
    (dir, result)
}

fn flatten(layers: &[Vec<u8>], limits: &Limits) -> Result<FlatTree, FlattenError> {
    flatten_in(layers, limits).1
}

fn problem(layers: &[Vec<u8>]) -> (String, EntryProblem) {
    match flatten(layers, &Limits::default()) {
        Err(FlattenError::Entry { entry, problem, .. }) => (entry, problem),
        other => panic!("expected an entry error, got {other:?}"),
    }
}

#[test]
fn absolute_paths_are_refused() {
    let (entry, p) = problem(&[tar_layer(&[E::Raw(b"/etc/passwd", b'0', b"", b"x")])]);
    assert_eq!(entry, "/etc/passwd");
    assert!(
        matches!(p, EntryProblem::Path(PathProblem::Absolute)),
        "{p}"
    );
}

#[test]
fn dot_dot_is_refused() {
    let (entry, p) = problem(&[tar_layer(&[E::Raw(b"rootfs/../../x", b'0', b"", b"x")])]);
    assert_eq!(entry, "rootfs/../../x");
    assert!(matches!(p, EntryProblem::Path(PathProblem::DotDot)), "{p}");
}

#[test]
fn escaping_symlinks_are_refused() {
    for target in [&b"../../../etc/shadow"[..], b"/../etc", b"a/../../.."] {
        let (entry, p) = problem(&[tar_layer(&[E::Raw(b"rootfs/link", b'2', target, b"")])]);
        assert_eq!(entry, "rootfs/link");
        assert!(matches!(p, EntryProblem::SymlinkEscapes { .. }), "{p}");
    }
    // Staying inside is fine, including absolute targets (they are
    // interpreted from the image root, never followed on the host).
    let ok = tar_layer(&[
        E::Raw(b"rootfs/usr/lib/a", b'2', b"../../bin/x", b""),
        E::Raw(b"rootfs/abs", b'2', b"/usr/lib/x", b""),
    ]);
    let tree = flatten(&[ok], &Limits::default()).unwrap();
    let link = TreePath::from_components(["rootfs", "abs"]).unwrap();
    assert_eq!(
        tree.get(&link),
        Some(&Node::Symlink {
            target: "/usr/lib/x".to_owned()
        })
    );
}

#[test]
fn hardlinks_must_name_a_file_inside() {
    let (_, p) = problem(&[tar_layer(&[E::Raw(
        b"rootfs/h",
        b'1',
        b"../etc/passwd",
        b"",
    )])]);
    assert!(matches!(p, EntryProblem::BadLinkTarget { .. }), "{p}");
    let (_, p) = problem(&[tar_layer(&[E::Raw(b"rootfs/h", b'1', b"/etc/passwd", b"")])]);
    assert!(matches!(p, EntryProblem::BadLinkTarget { .. }), "{p}");
    let (_, p) = problem(&[tar_layer(&[E::Raw(
        b"rootfs/h",
        b'1',
        b"rootfs/missing",
        b"",
    )])]);
    assert!(matches!(p, EntryProblem::HardlinkTarget { .. }), "{p}");
    // A valid hard link shares the content.
    let ok = tar_layer(&[
        E::File("rootfs/a", 0o600, b"same"),
        E::Hardlink("rootfs/b", "rootfs/a"),
    ]);
    let (_dir, tree) = flatten_in(&[ok], &Limits::default());
    let tree = tree.unwrap();
    let b = TreePath::from_components(["rootfs", "b"]).unwrap();
    let Some(Node::File { blob, mode, .. }) = tree.get(&b) else {
        panic!()
    };
    assert_eq!(*mode, 0o600);
    assert_eq!(std::fs::read(tree.blob_path(*blob)).unwrap(), b"same");
}

#[test]
fn device_nodes_and_fifos_are_refused() {
    for (kind, name) in [
        (b'3', "character device"),
        (b'4', "block device"),
        (b'6', "fifo"),
    ] {
        let (entry, p) = problem(&[tar_layer(&[E::Raw(b"rootfs/dev/x", kind, b"", b"")])]);
        assert_eq!(entry, "rootfs/dev/x");
        match p {
            EntryProblem::SpecialFile { kind } => assert_eq!(kind, name),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn a_file_cannot_be_a_parent() {
    let (entry, p) = problem(&[tar_layer(&[
        E::File("rootfs/x", 0o644, b"file"),
        E::File("rootfs/x/y", 0o644, b"under a file"),
    ])]);
    assert_eq!(entry, "rootfs/x/y");
    assert!(
        p.to_string().contains("parent rootfs/x is not a directory"),
        "{p}"
    );
    // Nor can a symlink (writes never follow links).
    let (_, p) = problem(&[tar_layer(&[
        E::Symlink("rootfs/l", "usr"),
        E::File("rootfs/l/y", 0o644, b"through a link"),
    ])]);
    assert!(p.to_string().contains("not a directory"), "{p}");
}

#[test]
fn limits_are_enforced() {
    let layer = tar_layer(&[
        E::File("rootfs/a", 0o644, b"0123456789"),
        E::File("rootfs/b", 0o644, b"0123456789"),
    ]);
    let tight = Limits {
        max_entries: 1,
        ..Limits::default()
    };
    match flatten(std::slice::from_ref(&layer), &tight) {
        Err(FlattenError::Entry {
            entry,
            problem: EntryProblem::TooManyEntries { limit: 1 },
            ..
        }) => {
            assert_eq!(entry, "rootfs/b");
        }
        other => panic!("{other:?}"),
    }
    let small = Limits {
        max_total_bytes: 15,
        ..Limits::default()
    };
    match flatten(std::slice::from_ref(&layer), &small) {
        Err(FlattenError::Entry {
            entry,
            problem:
                EntryProblem::TooLarge {
                    size: 10,
                    limit: 15,
                },
            ..
        }) => {
            assert_eq!(entry, "rootfs/b");
        }
        other => panic!("{other:?}"),
    }
    let short = Limits {
        max_path_bytes: 8,
        ..Limits::default()
    };
    let long = tar_layer(&[E::File("rootfs/abcdefgh", 0o644, b"")]);
    assert!(matches!(
        flatten(&[long], &short),
        Err(FlattenError::Entry {
            problem: EntryProblem::Path(PathProblem::TooLong { .. }),
            ..
        })
    ));
    let few = Limits {
        max_layers: 1,
        ..Limits::default()
    };
    assert!(matches!(
        flatten(&[layer.clone(), layer], &few),
        Err(FlattenError::TooManyLayers { count: 2, limit: 1 })
    ));
}

#[test]
fn oversized_extended_headers_are_refused_before_reading() {
    // A GNU long-name entry claiming more than a path can be.
    let huge = vec![b'a'; 5000];
    let (_, p) = problem(&[tar_layer(&[E::Raw(b"././@LongLink", b'L', b"", &huge)])]);
    assert!(matches!(p, EntryProblem::ExtendedHeader(_)), "{p}");
}

#[test]
fn long_names_and_gzip_layers_work() {
    let name = format!("rootfs/usr/local/{}/file", "d".repeat(150));
    let layer = gzip(&tar_layer(&[E::File(&name, 0o644, b"deep")]));
    let tree = flatten(&[layer], &Limits::default()).unwrap();
    assert!(tree.iter().any(|(p, _)| p.as_str() == name));
}

#[test]
fn extension_structure_is_checked() {
    let limits = Limits::default();
    let load = |entries: &[E<'_>]| {
        let dir = tempfile::tempdir().unwrap();
        let tree = flatten_layers([tar_layer(entries).as_slice()], dir.path(), &limits).unwrap();
        Extension::load(tree, &limits).map(|_| ())
    };
    let m = b"version: v1alpha1\nmetadata:\n  name: x\n";
    assert!(matches!(
        load(&[E::File("manifest.yaml", 0o644, m), E::Dir("rootfs", 0o755), E::File("a", 0o644, b"")]),
        Err(LoadError::UnexpectedFile(name)) if name == "a"
    ));
    assert!(matches!(
        load(&[E::Dir("rootfs", 0o755)]),
        Err(LoadError::MissingManifest)
    ));
    assert!(matches!(
        load(&[E::File("manifest.yaml", 0o644, m)]),
        Err(LoadError::MissingRootfs)
    ));
    let e = load(&[
        E::File("manifest.yaml", 0o644, b"version: v1\n"),
        E::Dir("rootfs", 0o755),
    ])
    .unwrap_err();
    assert_eq!(e.to_string(), "unsupported manifest version: \"v1\"");
    assert!(matches!(
        load(&[
            E::File("manifest.yaml", 0o644, b"version: [\n"),
            E::Dir("rootfs", 0o755)
        ]),
        Err(LoadError::Manifest(_))
    ));
    assert!(load(&[E::File("manifest.yaml", 0o644, m), E::Dir("rootfs", 0o755)]).is_ok());
}

#[test]
fn whiteouts_apply_to_lower_layers_only() {
    let lower = tar_layer(&[
        E::File("rootfs/d/a", 0o644, b"lower"),
        E::File("rootfs/d/sub/c", 0o644, b"lower"),
        E::File("rootfs/gone", 0o644, b"lower"),
    ]);
    // The opaque marker comes after this layer's own entry in `d`: that
    // entry stays, whatever the tar order.
    let upper = tar_layer(&[
        E::File("rootfs/d/b", 0o644, b"upper"),
        E::File("rootfs/d/.wh..wh..opq", 0o644, b""),
        E::File("rootfs/.wh.gone", 0o644, b""),
        E::File("rootfs/new/.wh..wh..opq", 0o644, b""),
    ]);
    let (_dir, tree) = flatten_in(&[lower, upper], &Limits::default());
    let names: Vec<String> = tree.unwrap().iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(names, ["rootfs", "rootfs/d", "rootfs/d/b", "rootfs/new"]);
}
