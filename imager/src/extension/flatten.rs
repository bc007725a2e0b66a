//! Flattening an image's ordered layers into one [`FlatTree`], safely.
//!
//! Layers are applied in order with OCI semantics: a later entry replaces an
//! earlier one at the same path (a directory over a directory only updates
//! its mode), `.wh.<name>` deletes `<name>` from lower layers and
//! `.wh..wh..opq` hides everything lower layers put in its directory (what
//! the same layer adds there stays, whatever the tar order). Whiteout files
//! never appear in the result.
//!
//! Everything an archive says is treated as hostile:
//! - names are normalised and refused when absolute, containing `..`, not
//!   UTF-8 or over the length limits ([`TreePath::from_archive_name`]);
//! - symlink targets are resolved lexically from the link's directory (an
//!   absolute target from the image root) and refused if they climb above
//!   the root; hard links must name a regular file already in the tree;
//! - device nodes and FIFOs are refused (Talos forbids special files in
//!   extensions and the kernel would create them at boot), as are sparse
//!   and unknown entry types;
//! - entry count, content bytes, index path bytes and layer count are
//!   bounded ([`Limits`]), and so are GNU long names and PAX headers, which
//!   are parsed here (tar's raw mode) instead of by the `tar` crate because
//!   it would buffer them whole whatever their declared size;
//! - nothing is created on disk but blob files named by us, so no entry can
//!   make a later write follow a link.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::Path;

use tar::{Archive, EntryType};

use super::layer_stream::open_layer;
use super::limits::Limits;
use super::tree::{FlatTree, Node, TreeError};
use super::tree_path::{PathProblem, TreePath};

/// Largest PAX extended header accepted, in bytes (it may carry a long path,
/// a long link target and a few xattrs).
pub const MAX_PAX_HEADER_BYTES: u64 = 64 * 1024;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";
const RESERVED_WHITEOUT_PREFIX: &str = ".wh..wh.";

/// Why flattening an image failed.
#[derive(Debug, thiserror::Error)]
pub enum FlattenError {
    /// The image has more layers than allowed.
    #[error("image has {count} layers, over the limit of {limit}")]
    TooManyLayers {
        /// Layers given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Preparing the blob directory failed.
    #[error("creating blob directory {dir}: {source}")]
    Setup {
        /// The directory.
        dir: String,
        /// The cause.
        source: io::Error,
    },
    /// The layer's tar stream could not be read.
    #[error("layer {layer}: reading tar stream: {source}")]
    Read {
        /// Index of the layer (0 = bottom).
        layer: usize,
        /// The cause.
        source: io::Error,
    },
    /// One entry was refused.
    #[error("layer {layer}: entry {entry:?}: {problem}")]
    Entry {
        /// Index of the layer (0 = bottom).
        layer: usize,
        /// The entry name as written in the archive (lossy UTF-8).
        entry: String,
        /// What is wrong with it.
        problem: EntryProblem,
    },
}

/// What is wrong with one archive entry.
#[derive(Debug, thiserror::Error)]
pub enum EntryProblem {
    /// Its name is not acceptable.
    #[error("{0}")]
    Path(#[from] PathProblem),
    /// A device node or FIFO.
    #[error("{kind} entries are not allowed")]
    SpecialFile {
        /// `character device`, `block device` or `fifo`.
        kind: &'static str,
    },
    /// An entry type we do not handle (sparse files, unknown types).
    #[error("unsupported tar entry type {0:?}")]
    Unsupported(char),
    /// The root of the image is not a directory.
    #[error("the image root must be a directory")]
    RootNotDirectory,
    /// A symlink target that is empty, too long or climbs above the root.
    #[error("symlink target {target:?} escapes the image root")]
    SymlinkEscapes {
        /// The target as written.
        target: String,
    },
    /// A link target that is not acceptable for another reason.
    #[error("link target {target:?}: {reason}")]
    BadLinkTarget {
        /// The target as written (lossy UTF-8).
        target: String,
        /// Why.
        reason: String,
    },
    /// A hard link to something that is not a regular file in the tree.
    #[error("hard link target {target} is not a regular file already in the image")]
    HardlinkTarget {
        /// The target.
        target: TreePath,
    },
    /// A whiteout that names `.` or nothing.
    #[error("invalid whiteout name")]
    BadWhiteout,
    /// Entry count limit reached.
    #[error("more than {limit} entries in the image")]
    TooManyEntries {
        /// The limit.
        limit: usize,
    },
    /// Content size limit reached.
    #[error("{size} bytes would bring the image over {limit} bytes of content")]
    TooLarge {
        /// Size of this entry.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Index path bytes limit reached.
    #[error("the image's paths exceed {limit} bytes")]
    TooManyPathBytes {
        /// The limit.
        limit: usize,
    },
    /// A GNU long name or PAX header that is too large or malformed.
    #[error("bad extended header: {0}")]
    ExtendedHeader(String),
    /// The tree refused the edit.
    #[error("{0}")]
    Tree(#[from] TreeError),
    /// Copying the content failed.
    #[error("copying content: {0}")]
    Content(io::Error),
}

/// Flattens `layers` (bottom first; each gzip, zstd or plain tar, detected
/// by content) into a tree whose blobs are written under `blob_dir`.
pub fn flatten_layers<R: Read>(
    layers: impl IntoIterator<Item = R>,
    blob_dir: &Path,
    limits: &Limits,
) -> Result<FlatTree, FlattenError> {
    let mut tree = FlatTree::new(blob_dir).map_err(|source| FlattenError::Setup {
        dir: blob_dir.display().to_string(),
        source,
    })?;
    let mut state = State {
        limits: *limits,
        entries: 0,
        bytes: 0,
    };
    for (index, layer) in layers.into_iter().enumerate() {
        if index >= limits.max_layers {
            return Err(FlattenError::TooManyLayers {
                count: index + 1,
                limit: limits.max_layers,
            });
        }
        apply_layer(&mut tree, &mut state, index, layer)?;
    }
    Ok(tree)
}

struct State {
    limits: Limits,
    entries: usize,
    bytes: u64,
}

/// Names carried by GNU and PAX extension headers for the next entry.
#[derive(Default)]
struct Pending {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
}

fn apply_layer<R: Read>(
    tree: &mut FlatTree,
    state: &mut State,
    layer: usize,
    blob: R,
) -> Result<(), FlattenError> {
    let read_err = |source| FlattenError::Read { layer, source };
    let (_, stream) = open_layer(blob).map_err(read_err)?;
    let mut archive = Archive::new(stream);
    let entries = archive.entries().map_err(read_err)?.raw(true);
    // Paths this layer put in the tree, with their ancestors: an opaque
    // whiteout keeps them.
    let mut touched: HashSet<TreePath> = HashSet::new();
    let mut pending = Pending::default();
    for entry in entries {
        let mut entry = entry.map_err(read_err)?;
        let header_name = entry.header().path_bytes().into_owned();
        let fail = |name: &[u8], problem: EntryProblem| FlattenError::Entry {
            layer,
            entry: String::from_utf8_lossy(name).into_owned(),
            problem,
        };
        state.entries += 1;
        if state.entries > state.limits.max_entries {
            return Err(fail(
                &header_name,
                EntryProblem::TooManyEntries {
                    limit: state.limits.max_entries,
                },
            ));
        }
        let kind = entry.header().entry_type();
        match kind {
            EntryType::GNULongName => {
                let limit = state.limits.max_path_bytes as u64 + 1;
                pending.path =
                    Some(read_small(&mut entry, limit).map_err(|e| fail(&header_name, e))?);
                continue;
            }
            EntryType::GNULongLink => {
                let limit = state.limits.max_link_target_bytes as u64 + 1;
                pending.link =
                    Some(read_small(&mut entry, limit).map_err(|e| fail(&header_name, e))?);
                continue;
            }
            EntryType::XHeader => {
                let data = read_small(&mut entry, MAX_PAX_HEADER_BYTES)
                    .map_err(|e| fail(&header_name, e))?;
                apply_pax(&data, &mut pending).map_err(|e| fail(&header_name, e))?;
                continue;
            }
            EntryType::XGlobalHeader => {
                read_small(&mut entry, MAX_PAX_HEADER_BYTES).map_err(|e| fail(&header_name, e))?;
                continue;
            }
            _ => {}
        }
        let raw_name = pending.path.take().map(trim_nul).unwrap_or(header_name);
        let raw_link = pending
            .link
            .take()
            .map(trim_nul)
            .or_else(|| entry.header().link_name_bytes().map(|l| l.into_owned()));
        let result = apply_entry(
            tree,
            state,
            &mut touched,
            &mut entry,
            kind,
            &raw_name,
            raw_link,
        );
        result.map_err(|problem| fail(&raw_name, problem))?;
    }
    Ok(())
}

fn apply_entry<R: Read>(
    tree: &mut FlatTree,
    state: &mut State,
    touched: &mut HashSet<TreePath>,
    entry: &mut tar::Entry<'_, R>,
    kind: EntryType,
    raw_name: &[u8],
    raw_link: Option<Vec<u8>>,
) -> Result<(), EntryProblem> {
    let limits = state.limits;
    let path = TreePath::from_archive_name(raw_name, limits.max_path_bytes, limits.max_name_bytes)?;
    let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;

    // Whiteouts first: they are not entries of the result.
    if let Some(path) = &path {
        let name = path.file_name();
        if name == OPAQUE_WHITEOUT {
            // The marker implies its directory exists in this layer.
            tree.ensure_parents(path)?;
            for ancestor in path.ancestors() {
                touched.insert(ancestor);
            }
            let dir = path.parent();
            tree.remove_below_unless(dir.as_ref(), |p| touched.contains(p))?;
            return Ok(());
        }
        if name.starts_with(RESERVED_WHITEOUT_PREFIX) {
            return Ok(());
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.is_empty() || hidden == "." || hidden == ".." {
                return Err(EntryProblem::BadWhiteout);
            }
            let target = match path.parent() {
                Some(parent) => parent.join(hidden),
                None => TreePath::from_components([hidden]),
            }
            .ok_or(EntryProblem::BadWhiteout)?;
            tree.remove(&target)?;
            return Ok(());
        }
    }

    let node = match kind {
        EntryType::Directory => Node::Dir { mode },
        EntryType::Regular | EntryType::Continuous => {
            let size = entry.header().size().map_err(EntryProblem::Content)?;
            if state.bytes.saturating_add(size) > limits.max_total_bytes {
                return Err(EntryProblem::TooLarge {
                    size,
                    limit: limits.max_total_bytes,
                });
            }
            state.bytes += size;
            if path.is_none() {
                return Err(EntryProblem::RootNotDirectory);
            }
            let blob = tree
                .blobs_mut()
                .store(entry, size)
                .map_err(EntryProblem::Content)?;
            Node::File { mode, blob, size }
        }
        EntryType::Symlink => {
            let target = link_target(raw_link, &limits)?;
            check_symlink(path.as_ref(), &target)?;
            Node::Symlink { target }
        }
        EntryType::Link => {
            let raw = raw_link.unwrap_or_default();
            let target =
                TreePath::from_archive_name(&raw, limits.max_path_bytes, limits.max_name_bytes)
                    .map_err(|problem| EntryProblem::BadLinkTarget {
                        target: String::from_utf8_lossy(&raw).into_owned(),
                        reason: problem.to_string(),
                    })?
                    .ok_or_else(|| EntryProblem::BadLinkTarget {
                        target: String::from_utf8_lossy(&raw).into_owned(),
                        reason: "names the image root".to_owned(),
                    })?;
            match tree.get(&target) {
                Some(Node::File { mode, blob, size }) => {
                    let (mode, blob, size) = (*mode, *blob, *size);
                    tree.blobs_mut().retain(blob);
                    Node::File { mode, blob, size }
                }
                _ => return Err(EntryProblem::HardlinkTarget { target }),
            }
        }
        EntryType::Char => {
            return Err(EntryProblem::SpecialFile {
                kind: "character device",
            });
        }
        EntryType::Block => {
            return Err(EntryProblem::SpecialFile {
                kind: "block device",
            });
        }
        EntryType::Fifo => return Err(EntryProblem::SpecialFile { kind: "fifo" }),
        other => return Err(EntryProblem::Unsupported(other.as_byte() as char)),
    };

    let Some(path) = path else {
        // The root itself: only a directory is acceptable, and its mode is
        // not kept (the extension's `rootfs/` carries the one that matters).
        return match node {
            Node::Dir { .. } => Ok(()),
            _ => Err(EntryProblem::RootNotDirectory),
        };
    };
    tree.ensure_parents(&path)?;
    for ancestor in path.ancestors() {
        touched.insert(ancestor);
    }
    tree.put(path.clone(), node)?;
    touched.insert(path);
    if tree.path_bytes() > limits.max_total_path_bytes {
        return Err(EntryProblem::TooManyPathBytes {
            limit: limits.max_total_path_bytes,
        });
    }
    Ok(())
}

/// Reads a whole (small) extension entry, refusing more than `limit` bytes.
fn read_small<R: Read>(entry: &mut tar::Entry<'_, R>, limit: u64) -> Result<Vec<u8>, EntryProblem> {
    let size = entry.header().size().map_err(EntryProblem::Content)?;
    if size > limit {
        return Err(EntryProblem::ExtendedHeader(format!(
            "{size} bytes, over the limit of {limit}"
        )));
    }
    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    entry
        .take(size)
        .read_to_end(&mut data)
        .map_err(EntryProblem::Content)?;
    Ok(data)
}

/// Applies the `path` and `linkpath` records of a PAX header
/// (`"<len> <key>=<value>\n"` records); other keys (times, xattrs) are not
/// kept.
fn apply_pax(data: &[u8], pending: &mut Pending) -> Result<(), EntryProblem> {
    let bad = |what: &str| EntryProblem::ExtendedHeader(format!("malformed PAX record: {what}"));
    let mut rest = data;
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| bad("no length"))?;
        let len: usize = std::str::from_utf8(rest.get(..space).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad length"))?;
        let record = rest.get(..len).ok_or_else(|| bad("length past the end"))?;
        let body = record
            .get(space + 1..)
            .and_then(|b| b.strip_suffix(b"\n"))
            .ok_or_else(|| bad("no newline"))?;
        let eq = body
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| bad("no `=`"))?;
        let (key, value) = (
            body.get(..eq).unwrap_or_default(),
            body.get(eq + 1..).unwrap_or_default(),
        );
        match key {
            b"path" => pending.path = Some(value.to_vec()),
            b"linkpath" => pending.link = Some(value.to_vec()),
            _ => {}
        }
        rest = rest.get(len..).unwrap_or_default();
    }
    Ok(())
}

fn trim_nul(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    bytes
}

fn link_target(raw: Option<Vec<u8>>, limits: &Limits) -> Result<String, EntryProblem> {
    let raw = raw.unwrap_or_default();
    let lossy = || String::from_utf8_lossy(&raw).into_owned();
    if raw.is_empty() {
        return Err(EntryProblem::BadLinkTarget {
            target: String::new(),
            reason: "empty".to_owned(),
        });
    }
    if raw.len() > limits.max_link_target_bytes {
        return Err(EntryProblem::BadLinkTarget {
            target: lossy(),
            reason: format!("longer than {} bytes", limits.max_link_target_bytes),
        });
    }
    String::from_utf8(raw.clone()).map_err(|_| EntryProblem::BadLinkTarget {
        target: lossy(),
        reason: "not UTF-8".to_owned(),
    })
}

/// Resolves `target` lexically from the link's directory (from the root if
/// absolute) and refuses it if a `..` would climb above the root.
fn check_symlink(link: Option<&TreePath>, target: &str) -> Result<(), EntryProblem> {
    let mut depth: usize = if target.starts_with('/') {
        0
    } else {
        link.and_then(TreePath::parent)
            .map_or(0, |parent| parent.components().count())
    };
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| EntryProblem::SymlinkEscapes {
                        target: target.to_owned(),
                    })?;
            }
            _ => depth += 1,
        }
    }
    Ok(())
}
