//! Turning part of an extension tree into plain files and directories,
//! following symlinks inside the tree.
//!
//! Upstream moves firmware and copies kernel modules with `os.Stat`-based
//! copies, so a symlink in those trees becomes a copy of what it points to
//! (a file, or a whole directory). Here links are resolved *inside the
//! extension's rootfs* (an absolute target starts at the rootfs, as it would
//! at runtime; `..` stops at the rootfs), never on the build host. A link
//! that resolves to nothing is an error, as `os.Stat` fails upstream; loops
//! and runaway expansion are bounded.

use std::collections::VecDeque;
use std::path::PathBuf;

use crate::extension::{FlatTree, MAX_SYMLINK_HOPS, Node, TreePath};

/// Deepest directory nesting produced by expanding links to directories.
pub const MAX_MATERIALIZE_DEPTH: usize = 64;

/// A resolved entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Concrete {
    Dir {
        mode: u32,
    },
    File {
        mode: u32,
        source: PathBuf,
        size: u64,
    },
}

/// Why a subtree could not be materialised.
#[derive(Debug, thiserror::Error)]
pub enum MaterializeError {
    /// A symlink (or a path through one) leads nowhere inside the rootfs.
    #[error("{path}: symlink does not resolve inside the extension")]
    Dangling {
        /// The path being resolved (relative to the rootfs).
        path: String,
    },
    /// Too many links followed, or directories nested too deep.
    #[error("{path}: symlink loop or nesting deeper than {MAX_MATERIALIZE_DEPTH}")]
    Loop {
        /// The path being resolved (relative to the rootfs).
        path: String,
    },
    /// Expanding links produced more entries than allowed.
    #[error("expanding {path} produces more than {limit} entries")]
    TooMany {
        /// The subtree.
        path: String,
        /// The limit.
        limit: usize,
    },
}

/// Resolves `path` (below `root`) through symlinks. `Ok(None)`: nothing
/// there.
pub(crate) fn resolve<'t>(
    tree: &'t FlatTree,
    root: &TreePath,
    path: &TreePath,
) -> Result<Option<(TreePath, &'t Node)>, MaterializeError> {
    let loop_err = || MaterializeError::Loop {
        path: path.to_string(),
    };
    let mut pending: VecDeque<String> = match path.strip_prefix(root) {
        Some(rel) => rel.components().map(str::to_owned).collect(),
        None => return Ok(tree.get(path).map(|n| (path.clone(), n))),
    };
    let mut current: Vec<String> = Vec::new();
    let mut hops = 0;
    let mut node: Option<&Node> = None;
    while let Some(component) = pending.pop_front() {
        match component.as_str() {
            "" | "." => continue,
            ".." => {
                current.pop();
                node = None;
                continue;
            }
            _ => {}
        }
        if let Some(n) = node
            && !n.is_dir()
        {
            return Ok(None);
        }
        current.push(component);
        let here = join(root, &current);
        match tree.get(&here) {
            None => return Ok(None),
            Some(Node::Symlink { target }) => {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(loop_err());
                }
                current.pop();
                if target.starts_with('/') {
                    current.clear();
                }
                for c in target.split('/').rev() {
                    pending.push_front(c.to_owned());
                }
                node = None;
            }
            Some(n) => node = Some(n),
        }
    }
    let resolved = join(root, &current);
    Ok(node.map(|n| (resolved, n)))
}

fn join(root: &TreePath, rel: &[String]) -> TreePath {
    let mut p = root.clone();
    for c in rel {
        if let Some(next) = p.join(c) {
            p = next;
        }
    }
    p
}

/// Lists `sub` (below `root`) and everything under it as plain entries,
/// paths relative to `sub`'s parent (so the first entry is `sub`'s own
/// name). Links are followed; see the module docs. `Ok(None)` if `sub`
/// itself does not exist.
pub(crate) fn materialize(
    tree: &FlatTree,
    root: &TreePath,
    sub: &TreePath,
    max_entries: usize,
) -> Result<Option<Vec<(TreePath, Concrete)>>, MaterializeError> {
    let Some(_) = resolve(tree, root, sub)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    // (path in the tree as reached, path in the output)
    let top =
        TreePath::from_components([sub.file_name()]).ok_or_else(|| MaterializeError::Dangling {
            path: sub.to_string(),
        })?;
    let mut stack = vec![(sub.clone(), top)];
    while let Some((reached, output)) = stack.pop() {
        let rel = || {
            reached
                .strip_prefix(root)
                .map_or_else(|| reached.to_string(), |r| r.to_string())
        };
        if output.components().count() > MAX_MATERIALIZE_DEPTH {
            return Err(MaterializeError::Loop { path: rel() });
        }
        if out.len() >= max_entries {
            return Err(MaterializeError::TooMany {
                path: sub.to_string(),
                limit: max_entries,
            });
        }
        let Some((resolved, node)) = resolve(tree, root, &reached)? else {
            return Err(MaterializeError::Dangling { path: rel() });
        };
        match node {
            Node::Dir { mode } => {
                out.push((output.clone(), Concrete::Dir { mode: *mode }));
                let children: Vec<String> = tree
                    .children(Some(&resolved))
                    .map(|(p, _)| p.file_name().to_owned())
                    .collect();
                // Reverse so the stack pops them in name order.
                for name in children.into_iter().rev() {
                    if let (Some(r), Some(o)) = (resolved.join(&name), output.join(&name)) {
                        stack.push((r, o));
                    }
                }
            }
            Node::File { mode, blob, size } => out.push((
                output,
                Concrete::File {
                    mode: *mode,
                    source: tree.blob_path(*blob),
                    size: *size,
                },
            )),
            Node::Symlink { .. } => return Err(MaterializeError::Dangling { path: rel() }),
        }
    }
    Ok(Some(out))
}
