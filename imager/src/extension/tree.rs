//! A flattened image: an ordered index of entries plus their content blobs.
//!
//! The index maps [`TreePath`]s to [`Node`]s (directories, regular files,
//! symlinks; nothing else is representable, so device nodes can never reach
//! an output). Modes are kept as read from the archive, independently of
//! the builder's own uid and umask; ownership is not kept because every
//! output is root-owned (`mksquashfs -all-root`, `cpio -R +0:+0`).
//!
//! The tree is only mutated through operations that keep it consistent:
//! every entry's parent is a directory in the tree, and removing a path
//! removes its whole subtree and releases its blobs.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use super::blobs::{BlobId, BlobStore};
use super::tree_path::TreePath;

/// Mode of directories created implicitly (a file's parent missing from
/// the archive), as Docker and `MkdirAll(…, 0o755)` create them.
pub const IMPLICIT_DIR_MODE: u32 = 0o755;

/// One entry of a flattened tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory with its permission bits.
    Dir {
        /// Permission bits (`0o7777` mask).
        mode: u32,
    },
    /// A regular file whose bytes are in a blob.
    File {
        /// Permission bits (`0o7777` mask).
        mode: u32,
        /// Its content.
        blob: BlobId,
        /// Content length in bytes.
        size: u64,
    },
    /// A symbolic link (its target was checked not to leave the tree).
    Symlink {
        /// The target as written in the archive.
        target: String,
    },
}

impl Node {
    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self, Node::Dir { .. })
    }
}

/// Why an edit of the tree was refused.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// A path's parent exists but is not a directory.
    #[error("parent {parent} is not a directory")]
    ParentNotDirectory {
        /// The offending parent.
        parent: TreePath,
    },
    /// Deleting a replaced blob failed.
    #[error("releasing content: {0}")]
    Io(#[from] io::Error),
}

/// A flattened image tree.
#[derive(Debug)]
pub struct FlatTree {
    nodes: BTreeMap<TreePath, Node>,
    blobs: BlobStore,
    path_bytes: usize,
}

impl FlatTree {
    /// An empty tree whose content blobs go to `blob_dir`.
    pub fn new(blob_dir: &std::path::Path) -> io::Result<FlatTree> {
        Ok(FlatTree {
            nodes: BTreeMap::new(),
            blobs: BlobStore::create(blob_dir)?,
            path_bytes: 0,
        })
    }

    /// The entry at `path`.
    pub fn get(&self, path: &TreePath) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// All entries in listing order.
    pub fn iter(&self) -> impl Iterator<Item = (&TreePath, &Node)> {
        self.nodes.iter()
    }

    /// `path` itself (if present) and everything below it, in listing order.
    pub fn subtree<'a>(
        &'a self,
        path: &'a TreePath,
    ) -> impl Iterator<Item = (&'a TreePath, &'a Node)> + 'a {
        self.nodes
            .range(path.clone()..)
            .take_while(move |(p, _)| p.is_within(path))
    }

    /// The direct children of `dir` (`None` = the root), in name order.
    pub fn children<'a>(
        &'a self,
        dir: Option<&'a TreePath>,
    ) -> impl Iterator<Item = (&'a TreePath, &'a Node)> + 'a {
        let depth = dir.map_or(0, |d| d.components().count());
        let iter: Box<dyn Iterator<Item = (&TreePath, &Node)>> = match dir {
            Some(d) => Box::new(self.subtree(d).skip(1)),
            None => Box::new(self.nodes.iter()),
        };
        iter.filter(move |(p, _)| p.components().count() == depth + 1)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree has no entries.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Bytes of paths held by the index.
    pub fn path_bytes(&self) -> usize {
        self.path_bytes
    }

    /// Where a file's content is on disk.
    pub fn blob_path(&self, blob: BlobId) -> PathBuf {
        self.blobs.path(blob)
    }

    /// The blob store, to add content.
    pub fn blobs_mut(&mut self) -> &mut BlobStore {
        &mut self.blobs
    }

    /// Makes sure every ancestor of `path` is a directory, creating missing
    /// ones with [`IMPLICIT_DIR_MODE`]. Returns how many were created.
    pub fn ensure_parents(&mut self, path: &TreePath) -> Result<usize, TreeError> {
        let mut created = 0;
        for ancestor in path.ancestors() {
            match self.nodes.get(&ancestor) {
                Some(Node::Dir { .. }) => {}
                Some(_) => return Err(TreeError::ParentNotDirectory { parent: ancestor }),
                None => {
                    self.path_bytes += ancestor.len();
                    self.nodes.insert(
                        ancestor,
                        Node::Dir {
                            mode: IMPLICIT_DIR_MODE,
                        },
                    );
                    created += 1;
                }
            }
        }
        Ok(created)
    }

    /// Puts `node` at `path` with overlay semantics: a directory over a
    /// directory only updates its mode (children stay); anything else
    /// replaces what was there, subtree included. Parents must exist
    /// (see [`Self::ensure_parents`]).
    pub fn put(&mut self, path: TreePath, node: Node) -> Result<(), TreeError> {
        if let Some(parent) = path.parent()
            && !self.nodes.get(&parent).is_some_and(Node::is_dir)
        {
            return Err(TreeError::ParentNotDirectory { parent });
        }
        if let (Some(Node::Dir { mode }), Node::Dir { mode: new }) =
            (self.nodes.get_mut(&path), &node)
        {
            *mode = *new;
            return Ok(());
        }
        self.remove(&path)?;
        self.path_bytes += path.len();
        self.nodes.insert(path, node);
        Ok(())
    }

    /// Removes `path` and its subtree, releasing content. Returns whether
    /// anything was there.
    pub fn remove(&mut self, path: &TreePath) -> Result<bool, TreeError> {
        let doomed: Vec<TreePath> = self.subtree(path).map(|(p, _)| p.clone()).collect();
        for p in &doomed {
            self.remove_one(p)?;
        }
        Ok(!doomed.is_empty())
    }

    /// Removes the entries strictly below `dir` for which `keep` is false
    /// (and, when a kept entry is a directory, continues below it).
    pub fn remove_below_unless(
        &mut self,
        dir: Option<&TreePath>,
        keep: impl Fn(&TreePath) -> bool,
    ) -> Result<(), TreeError> {
        let below: Vec<TreePath> = match dir {
            Some(d) => self.subtree(d).skip(1).map(|(p, _)| p.clone()).collect(),
            None => self.nodes.keys().cloned().collect(),
        };
        let mut removed_root: Option<TreePath> = None;
        for p in below {
            if removed_root.as_ref().is_some_and(|r| p.is_within(r)) {
                self.remove_one(&p)?;
                continue;
            }
            if !keep(&p) {
                self.remove_one(&p)?;
                removed_root = Some(p);
            }
        }
        Ok(())
    }

    /// Detaches the subtree at `path` (entries below it, relative to it;
    /// `path` itself is dropped) without releasing content, for moving it
    /// elsewhere. The blobs stay valid while this tree lives.
    pub fn take_subtree(&mut self, path: &TreePath) -> Vec<(TreePath, Node)> {
        let keys: Vec<TreePath> = self.subtree(path).map(|(p, _)| p.clone()).collect();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(node) = self.nodes.remove(&key) {
                self.path_bytes = self.path_bytes.saturating_sub(key.len());
                out.push((key, node));
            }
        }
        out
    }

    fn remove_one(&mut self, path: &TreePath) -> Result<(), TreeError> {
        if let Some(node) = self.nodes.remove(path) {
            self.path_bytes = self.path_bytes.saturating_sub(path.len());
            if let Node::File { blob, .. } = node {
                self.blobs.release(blob)?;
            }
        }
        Ok(())
    }
}
