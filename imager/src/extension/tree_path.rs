//! Validated relative paths inside a flattened image, ordered like a
//! recursive directory listing.
//!
//! A [`TreePath`] is a non-empty `/`-separated sequence of components, none
//! of them empty, `.` or `..`, so it can never name anything outside the
//! tree. Its order compares component by component, which is exactly the
//! order of a walk that lists a directory before its children and siblings
//! by byte order of their names (`os.ReadDir` in upstream's listing): `a`,
//! `a/b`, `a-c`. Keeping that order in a `BTreeMap` makes every subtree a
//! contiguous range and every output (squashfs, cpio) naturally sorted.

use std::cmp::Ordering;
use std::fmt;

/// Why an archive name was not accepted as a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    /// The name starts with `/`.
    #[error("absolute path")]
    Absolute,
    /// The name has a `..` component.
    #[error("path has a `..` component")]
    DotDot,
    /// The name is not UTF-8.
    #[error("path is not UTF-8")]
    NotUtf8,
    /// The name is longer than the limit.
    #[error("path is {len} bytes, over the limit of {limit}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// One component is longer than the limit.
    #[error("path component is {len} bytes, over the limit of {limit}")]
    NameTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
}

/// A normalised relative path inside a tree (never the root itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TreePath(String);

impl TreePath {
    /// Normalises a tar entry name: `./` prefixes, `.` components and
    /// repeated or trailing slashes are dropped. Returns `Ok(None)` for the
    /// root itself (`./`, `.`).
    pub fn from_archive_name(
        name: &[u8],
        max_path: usize,
        max_name: usize,
    ) -> Result<Option<TreePath>, PathProblem> {
        let name = std::str::from_utf8(name).map_err(|_| PathProblem::NotUtf8)?;
        if name.starts_with('/') {
            return Err(PathProblem::Absolute);
        }
        if name.len() > max_path {
            return Err(PathProblem::TooLong {
                len: name.len(),
                limit: max_path,
            });
        }
        let mut out = String::with_capacity(name.len());
        for component in name.split('/') {
            match component {
                "" | "." => continue,
                ".." => return Err(PathProblem::DotDot),
                c if c.len() > max_name => {
                    return Err(PathProblem::NameTooLong {
                        len: c.len(),
                        limit: max_name,
                    });
                }
                c => {
                    if !out.is_empty() {
                        out.push('/');
                    }
                    out.push_str(c);
                }
            }
        }
        Ok((!out.is_empty()).then_some(TreePath(out)))
    }

    /// A path from components known to be valid (no `/`, not empty, not
    /// `.`/`..`). Returns `None` if any component is not.
    pub fn from_components<'a>(components: impl IntoIterator<Item = &'a str>) -> Option<TreePath> {
        let mut out = String::new();
        for c in components {
            if c.is_empty() || c == "." || c == ".." || c.contains('/') || c.contains('\0') {
                return None;
            }
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(c);
        }
        (!out.is_empty()).then_some(TreePath(out))
    }

    /// Parses an absolute in-image path such as `/usr/lib/firmware` (as the
    /// quirks spell them) into a tree path.
    pub fn from_absolute(path: &str) -> Option<TreePath> {
        TreePath::from_components(path.split('/').filter(|c| !c.is_empty()))
    }

    /// A path from a literal known to be valid (`rootfs`, `usr/lib`); for
    /// crate-internal constants only.
    pub(crate) fn known(literal: &'static str) -> TreePath {
        debug_assert!(TreePath::from_absolute(literal).is_some_and(|p| p.0 == literal));
        TreePath(literal.to_owned())
    }

    /// The path as `a/b/c`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its components.
    pub fn components(&self) -> std::str::Split<'_, char> {
        self.0.split('/')
    }

    /// The last component.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The parent, or `None` when the parent is the root.
    pub fn parent(&self) -> Option<TreePath> {
        self.0.rfind('/').map(|i| TreePath(self.0[..i].to_owned()))
    }

    /// This path with one more component (which must be a valid name).
    pub fn join(&self, name: &str) -> Option<TreePath> {
        TreePath::from_components(self.components().chain(std::iter::once(name)))
    }

    /// `self` with `other` appended (both valid, so the result is too).
    pub fn join_path(&self, other: &TreePath) -> TreePath {
        TreePath(format!("{}/{}", self.0, other.0))
    }

    /// Whether `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &TreePath) -> bool {
        self.0 == ancestor.0
            || (self.0.len() > ancestor.0.len()
                && self.0.starts_with(&ancestor.0)
                && self.0.as_bytes().get(ancestor.0.len()) == Some(&b'/'))
    }

    /// `self` relative to `ancestor` (`None` if not strictly below it).
    pub fn strip_prefix(&self, ancestor: &TreePath) -> Option<TreePath> {
        if self.0.len() > ancestor.0.len() && self.is_within(ancestor) {
            self.0
                .get(ancestor.0.len() + 1..)
                .map(|rest| TreePath(rest.to_owned()))
        } else {
            None
        }
    }

    /// Every proper ancestor, outermost first (`a`, `a/b` for `a/b/c`).
    pub fn ancestors(&self) -> impl Iterator<Item = TreePath> + '_ {
        self.0
            .match_indices('/')
            .map(|(i, _)| TreePath(self.0[..i].to_owned()))
    }

    /// Length of the path in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a tree path has at least one component.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Ord for TreePath {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.split('/').cmp(other.0.split('/'))
    }
}

impl PartialOrd for TreePath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for TreePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> TreePath {
        TreePath::from_archive_name(s.as_bytes(), 4096, 255)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn normalises_archive_names() {
        assert_eq!(p("./a//b/./c/").as_str(), "a/b/c");
        assert_eq!(TreePath::from_archive_name(b"./", 10, 10), Ok(None));
        assert_eq!(
            TreePath::from_archive_name(b"/etc/x", 10, 10),
            Err(PathProblem::Absolute)
        );
        assert_eq!(
            TreePath::from_archive_name(b"a/../../x", 10, 10),
            Err(PathProblem::DotDot)
        );
        assert!(matches!(
            TreePath::from_archive_name(b"abcdef", 10, 3),
            Err(PathProblem::NameTooLong { .. })
        ));
    }

    #[test]
    fn orders_like_a_recursive_listing() {
        let mut v = [
            p("a-c"),
            p("a/b"),
            p("a"),
            p("10.sqsh"),
            p("2.sqsh"),
            p("a/b/c"),
        ];
        v.sort();
        let names: Vec<_> = v.iter().map(TreePath::as_str).collect();
        assert_eq!(names, ["10.sqsh", "2.sqsh", "a", "a/b", "a/b/c", "a-c"]);
    }

    #[test]
    fn relations() {
        assert!(p("a/b").is_within(&p("a")));
        assert!(!p("ab").is_within(&p("a")));
        assert_eq!(p("a/b/c").strip_prefix(&p("a")), Some(p("b/c")));
        assert_eq!(p("a/b/c").parent(), Some(p("a/b")));
        let anc: Vec<_> = p("a/b/c").ancestors().collect();
        assert_eq!(anc, [p("a"), p("a/b")]);
    }
}
