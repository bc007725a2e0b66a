//! An ordered kernel command line with go-procfs semantics.
//!
//! Talos assembles its cmdline with `github.com/siderolabs/go-procfs`, whose
//! model is not "a list of words": it is an ordered list of *keys*, each with
//! an ordered list of values, printed key by key. Two consequences matter for
//! byte compatibility and are kept here on purpose:
//!
//! - all values of a key print together at the key's first position, so
//!   `console=tty1 x=1 console=ttyS0` prints as `console=tty1 console=ttyS0 x=1`;
//! - deleting every value of a key keeps the (now silent) key in place, and a
//!   later append to it reappears at that old position.
//!
//! Parsing is deliberately naive, as upstream's: words are split on Unicode
//! whitespace (quotes are not special) and then on the first `=`.

use std::fmt;

/// One key and its values, in insertion order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Param {
    key: String,
    values: Vec<String>,
}

/// A kernel command line: ordered keys, each with ordered values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cmdline {
    params: Vec<Param>,
}

/// How [`Cmdline::append_all`] treats special keys.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppendOptions<'a> {
    /// Keys whose whole value list is replaced (in place) instead of extended.
    pub overwrite: &'a [&'a str],
    /// Whether `-key` deletes `key` and `-key=value` deletes that one value.
    pub delete_negated: bool,
}

impl Cmdline {
    /// An empty command line.
    pub fn new() -> Self {
        Cmdline::default()
    }

    /// Parses `line`: words split on whitespace, each split on its first `=`
    /// (a word without `=`, or ending in `=`, has an empty value); repeated
    /// keys are grouped at their first position.
    pub fn parse(line: &str) -> Self {
        Cmdline {
            params: parse_params(line),
        }
    }

    /// The values of `key`, or `None` when the key was never added. A key
    /// whose values were all deleted yields an empty slice.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.position(key)
            .and_then(|i| self.params.get(i))
            .map(|p| p.values.as_slice())
    }

    /// Iterates over keys and their values, in print order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.params
            .iter()
            .map(|p| (p.key.as_str(), p.values.as_slice()))
    }

    /// Whether the command line prints as the empty string.
    pub fn is_empty(&self) -> bool {
        self.params.iter().all(|p| p.values.is_empty())
    }

    /// Adds `value` to `key`, creating the key at the end if it is new.
    pub fn append(&mut self, key: &str, value: &str) {
        match self.param_mut(key) {
            Some(p) => p.values.push(value.to_owned()),
            None => self.params.push(Param {
                key: key.to_owned(),
                values: vec![value.to_owned()],
            }),
        }
    }

    /// Replaces the whole value list of `key` where the key stands, or adds
    /// the key at the end if it is new.
    pub fn set<I>(&mut self, key: &str, values: I)
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        match self.param_mut(key) {
            Some(p) => p.values = values,
            None => self.params.push(Param {
                key: key.to_owned(),
                values,
            }),
        }
    }

    /// Parses `args` (joined with spaces) and [`set`](Self::set)s each key,
    /// so every key named in `args` ends up with exactly the values given.
    pub fn set_all<S: AsRef<str>>(&mut self, args: &[S]) {
        for p in parse_params(&join(args)) {
            self.set(&p.key, p.values);
        }
    }

    /// Parses `args` (joined with spaces) and merges them key by key:
    ///
    /// - with `delete_negated`, a key `-k` (longer than `-` alone) is a
    ///   deletion: if its first value is empty the key `k` is removed
    ///   entirely, otherwise the listed values are removed from `k`;
    /// - keys listed in `overwrite` are [`set`](Self::set);
    /// - any other key has its values appended (duplicates are kept).
    pub fn append_all<S: AsRef<str>>(&mut self, args: &[S], options: &AppendOptions<'_>) {
        for p in parse_params(&join(args)) {
            let negated = p.key.strip_prefix('-').filter(|t| !t.is_empty());
            if let Some(target) = negated.filter(|_| options.delete_negated) {
                // As upstream, only the first value decides between "drop the
                // key" and "drop these values".
                match p.values.first().map(String::as_str) {
                    Some("") | None => self.delete_key(target),
                    Some(_) => self.delete_values(target, &p.values),
                }
                continue;
            }
            if options.overwrite.contains(&p.key.as_str()) {
                self.set(&p.key, p.values);
                continue;
            }
            for value in &p.values {
                self.append(&p.key, value);
            }
        }
    }

    /// Removes `key` and all its values. Absent keys are ignored.
    pub fn delete_key(&mut self, key: &str) {
        if let Some(i) = self.position(key) {
            self.params.remove(i);
        }
    }

    /// Removes every value of `key` that equals one of `values`; the key
    /// itself stays (printing nothing if no value is left). Absent keys are
    /// ignored.
    pub fn delete_values<S: AsRef<str>>(&mut self, key: &str, values: &[S]) {
        if let Some(p) = self.param_mut(key) {
            p.values.retain(|v| !values.iter().any(|d| d.as_ref() == v));
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.params.iter().position(|p| p.key == key)
    }

    fn param_mut(&mut self, key: &str) -> Option<&mut Param> {
        self.params.iter_mut().find(|p| p.key == key)
    }
}

impl fmt::Display for Cmdline {
    /// `key=value` per value (`key` alone for an empty value), separated by
    /// single spaces, with trailing spaces trimmed as upstream does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for p in &self.params {
            for value in &p.values {
                out.push_str(&p.key);
                if !value.is_empty() {
                    out.push('=');
                    out.push_str(value);
                }
                out.push(' ');
            }
        }
        f.write_str(out.trim_end_matches(' '))
    }
}

fn join<S: AsRef<str>>(args: &[S]) -> String {
    args.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ")
}

fn parse_params(line: &str) -> Vec<Param> {
    let mut params: Vec<Param> = Vec::new();
    for word in line.split_whitespace() {
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        match params.iter_mut().find(|p| p.key == key) {
            Some(p) => p.values.push(value.to_owned()),
            None => params.push(Param {
                key: key.to_owned(),
                values: vec![value.to_owned()],
            }),
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXTRA: AppendOptions<'static> = AppendOptions {
        overwrite: &["console", "talos.platform"],
        delete_negated: true,
    };

    #[test]
    fn parse_then_display() {
        for (input, want) in [
            ("", ""),
            ("   \t\n", ""),
            ("a", "a"),
            ("slab_nomerge=", "slab_nomerge"),
            ("a=1 b=2", "a=1 b=2"),
            ("  a=1\t\tb=2\n", "a=1 b=2"),
            (
                "console=tty1 x=1 console=ttyS0",
                "console=tty1 console=ttyS0 x=1",
            ),
            ("k=v=w", "k=v=w"),
            ("=v", "=v"),
            ("foo=\"a b\"", "foo=\"a b\""),
            ("dup dup=1 dup", "dup dup=1 dup"),
        ] {
            assert_eq!(Cmdline::parse(input).to_string(), want, "{input:?}");
        }
    }

    #[test]
    fn parse_splits_on_the_first_equals_and_ignores_quotes() {
        let c = Cmdline::parse("k=v=w foo=\"a b\" bare");
        assert_eq!(c.get("k"), Some(&["v=w".to_owned()][..]));
        assert_eq!(c.get("foo"), Some(&["\"a".to_owned()][..]));
        assert_eq!(c.get("b\""), Some(&[String::new()][..]));
        assert_eq!(c.get("bare"), Some(&[String::new()][..]));
        assert_eq!(c.get("missing"), None);
    }

    #[test]
    fn append_groups_values_under_the_first_position() {
        let mut c = Cmdline::new();
        c.append("console", "tty1");
        c.append("x", "1");
        c.append("console", "ttyS0");
        c.append("flag", "");
        assert_eq!(c.to_string(), "console=tty1 console=ttyS0 x=1 flag");
    }

    #[test]
    fn set_replaces_in_place_or_adds_at_the_end() {
        let mut c = Cmdline::parse("a=1 console=tty0 console=ttyS0 b=2");
        c.set("console", ["ttyS1"]);
        c.set("z", ["9", "8"]);
        assert_eq!(c.to_string(), "a=1 console=ttyS1 b=2 z=9 z=8");
        c.set("a", Vec::<String>::new());
        assert_eq!(c.to_string(), "console=ttyS1 b=2 z=9 z=8");
        assert_eq!(c.get("a"), Some(&[][..]));
    }

    #[test]
    fn set_all_replaces_whole_keys() {
        let mut c = Cmdline::parse("talos.platform=metal console=tty0 init_on_alloc=1");
        c.set_all(&["console=tty0 console=ttyAMA0,115200", "new=1"]);
        assert_eq!(
            c.to_string(),
            "talos.platform=metal console=tty0 console=ttyAMA0,115200 init_on_alloc=1 new=1"
        );
        // An empty argument list (upstream's `Strings()` of no args is [""]) is a no-op.
        c.set_all(&[""]);
        assert_eq!(
            c.to_string(),
            "talos.platform=metal console=tty0 console=ttyAMA0,115200 init_on_alloc=1 new=1"
        );
    }

    #[test]
    fn append_all_table() {
        let base = "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge";
        for (args, options, want) in [
            (
                vec!["init_on_alloc=0"],
                EXTRA,
                "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 init_on_alloc=0 slab_nomerge",
            ),
            (
                vec!["-console"],
                EXTRA,
                "talos.platform=metal init_on_alloc=1 slab_nomerge",
            ),
            (
                vec!["-console="],
                EXTRA,
                "talos.platform=metal init_on_alloc=1 slab_nomerge",
            ),
            (
                vec!["-console=ttyS0"],
                EXTRA,
                "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge",
            ),
            (
                vec!["-console=ttyS0", "-console=tty0", "console=ttyS1"],
                EXTRA,
                // Both deletions are grouped under `-console` and run first;
                // the emptied key keeps its place for the overwrite.
                "talos.platform=metal console=ttyS1 init_on_alloc=1 slab_nomerge",
            ),
            (
                vec!["-console=ttyS0 -console"],
                EXTRA,
                // The first value is not empty, so only values are deleted
                // (`ttyS0` and the empty one): `tty0` stays.
                "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge",
            ),
            (vec!["-absent", "-absent2=x"], EXTRA, base),
            (
                vec!["-"],
                EXTRA,
                "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge -",
            ),
            (
                vec!["console=ttyS1"],
                EXTRA,
                "talos.platform=metal console=ttyS1 init_on_alloc=1 slab_nomerge",
            ),
            (
                vec!["console=ttyS1 console=tty1"],
                EXTRA,
                "talos.platform=metal console=ttyS1 console=tty1 init_on_alloc=1 slab_nomerge",
            ),
            (
                vec!["talos.platform=foo"],
                EXTRA,
                "talos.platform=foo console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge",
            ),
            (
                vec!["-console"],
                AppendOptions::default(),
                "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge -console",
            ),
            (
                vec!["console=ttyS1"],
                AppendOptions::default(),
                "talos.platform=metal console=ttyS0 console=tty0 console=ttyS1 init_on_alloc=1 slab_nomerge",
            ),
            (
                vec!["a=1", "b=2", "a=3"],
                EXTRA,
                "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge a=1 a=3 b=2",
            ),
            (
                vec!["slab_nomerge", "nolapic"],
                EXTRA,
                "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge slab_nomerge nolapic",
            ),
        ] {
            let mut c = Cmdline::parse(base);
            c.append_all(&args, &options);
            assert_eq!(c.to_string(), want, "{args:?}");
        }
    }

    #[test]
    fn deleted_values_leave_a_silent_key_that_can_be_refilled() {
        let mut c = Cmdline::parse("a=1 b=2 c=3");
        c.append_all(&["-b=2"], &EXTRA);
        assert_eq!(c.to_string(), "a=1 c=3");
        assert_eq!(c.get("b"), Some(&[][..]));
        assert!(!c.is_empty());
        c.append("b", "4");
        assert_eq!(c.to_string(), "a=1 b=4 c=3");
    }

    #[test]
    fn is_empty_tracks_printed_output() {
        let mut c = Cmdline::new();
        assert!(c.is_empty());
        c.append("a", "1");
        assert!(!c.is_empty());
        c.delete_values("a", &["1"]);
        assert!(c.is_empty());
        assert_eq!(c.to_string(), "");
    }

    #[test]
    fn iter_reports_keys_in_print_order() {
        let c = Cmdline::parse("b=1 a b=2");
        let got: Vec<(&str, Vec<&str>)> = c
            .iter()
            .map(|(k, v)| (k, v.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(got, vec![("b", vec!["1", "2"]), ("a", vec![""])]);
    }
}
