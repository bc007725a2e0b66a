//! Deterministic tar entries, laid out as Go's `archive/tar` writes them.
//!
//! Layers and docker archives must come out byte-identical for identical
//! inputs, and must read the way the Go tools that upstream uses write them:
//! USTAR headers (`ustar\0` magic, version `00`), uid and gid 0, no user or
//! group names, modification time 0 (Go writes its zero time as the Unix
//! epoch), directory names without a trailing `/`. A path too long for the
//! USTAR name and prefix fields gets a PAX `path` record, as Go does.
//!
//! Every path is checked to be clean and relative (no leading `/`, no empty,
//! `.` or `..` components) so nothing we write can escape the directory it is
//! unpacked into. Limits: [`MAX_ENTRY_PATH_LEN`] bytes per path and
//! [`MAX_ENTRY_SIZE`] bytes per file (the most an octal USTAR size field
//! holds); beyond either the entry is refused with an error.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use tar::{EntryType, Header};

use super::error::{OciWriteError, echo};

/// The longest path an entry may have, in bytes (Linux's `PATH_MAX`).
pub const MAX_ENTRY_PATH_LEN: usize = 4096;

/// The largest file an entry may hold: 8 GiB - 1, the most the 11 octal
/// digits of a USTAR size field can express.
pub const MAX_ENTRY_SIZE: u64 = 0o77_777_777_777;

/// Checks that `path` is a clean relative path within the limits.
pub(crate) fn check_entry_path(path: &str) -> Result<(), OciWriteError> {
    let fail = |reason| OciWriteError::InvalidEntryPath {
        path: echo(path),
        reason,
    };
    if path.is_empty() {
        return Err(fail("empty"));
    }
    if path.len() > MAX_ENTRY_PATH_LEN {
        return Err(fail("longer than 4096 bytes"));
    }
    if path.starts_with('/') {
        return Err(fail("absolute"));
    }
    if path.contains('\0') {
        return Err(fail("contains NUL"));
    }
    for component in path.split('/') {
        match component {
            "" => return Err(fail("has an empty component (`//` or a trailing `/`)")),
            "." | ".." => return Err(fail("has a `.` or `..` component")),
            _ => {}
        }
    }
    Ok(())
}

/// Appends a directory entry.
pub(crate) fn append_directory<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    mode: u32,
) -> Result<(), OciWriteError> {
    append(
        builder,
        path,
        mode,
        EntryType::Directory,
        0,
        &mut io::empty(),
    )
}

/// Appends a regular file with contents `bytes`.
pub(crate) fn append_bytes<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    mode: u32,
    bytes: &[u8],
) -> Result<(), OciWriteError> {
    let mut data = bytes;
    append(
        builder,
        path,
        mode,
        EntryType::Regular,
        bytes.len() as u64,
        &mut data,
    )
}

/// Appends the regular file at `source` under `path`, streaming its
/// contents. The file must keep the size it had when opened.
pub(crate) fn append_file<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    mode: u32,
    source: &Path,
) -> Result<(), OciWriteError> {
    let mut file = File::open(source).map_err(OciWriteError::io("opening", source))?;
    let size = file
        .metadata()
        .map_err(OciWriteError::io("reading metadata of", source))?
        .len();
    if size > MAX_ENTRY_SIZE {
        return Err(OciWriteError::FileTooLarge {
            path: source.to_owned(),
            size,
            limit: MAX_ENTRY_SIZE,
        });
    }
    let mut counted = Counting {
        inner: (&mut file).take(size),
        count: 0,
    };
    append(builder, path, mode, EntryType::Regular, size, &mut counted)?;
    let copied = counted.count;
    let mut probe = [0u8; 1];
    let grew = file
        .read(&mut probe)
        .map_err(OciWriteError::io("reading", source))?
        > 0;
    if copied != size || grew {
        return Err(OciWriteError::FileChanged {
            path: source.to_owned(),
            expected: size,
        });
    }
    Ok(())
}

fn append<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    mode: u32,
    kind: EntryType,
    size: u64,
    data: &mut dyn Read,
) -> Result<(), OciWriteError> {
    check_entry_path(path)?;
    let entry_error = |source| OciWriteError::TarEntry {
        entry: echo(path),
        source,
    };
    let mut header = Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(size);
    if header.set_path(path).is_err() {
        let (pax, records) = pax_path_header(path);
        builder
            .append(&pax, records.as_slice())
            .map_err(entry_error)?;
        set_truncated_name(&mut header, path);
    }
    header.set_cksum();
    builder.append(&header, data).map_err(entry_error)
}

/// A PAX extended header carrying `path`, and its records.
fn pax_path_header(path: &str) -> (Header, Vec<u8>) {
    // A record is "<length> path=<value>\n", the length counting its own digits.
    let body_len = " path=".len() + path.len() + 1;
    let mut len = body_len + 1;
    while len.to_string().len() + body_len != len {
        len = len.to_string().len() + body_len;
    }
    let records = format!("{len} path={path}\n").into_bytes();
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let name = if dir.is_empty() {
        format!("PaxHeaders.0/{file}")
    } else {
        format!("{dir}/PaxHeaders.0/{file}")
    };
    let mut header = Header::new_ustar();
    header.set_entry_type(EntryType::XHeader);
    header.set_mode(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(records.len() as u64);
    set_truncated_name(&mut header, &name);
    header.set_cksum();
    (header, records)
}

/// Puts the first 100 bytes of `path` in the name field (the PAX record
/// carries the full path).
fn set_truncated_name(header: &mut Header, path: &str) {
    let name = &mut header.as_old_mut().name;
    name.fill(0);
    for (dst, src) in name.iter_mut().zip(path.bytes()) {
        *dst = src;
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(bytes: &[u8]) -> Vec<(String, u32, u64, u64, tar::EntryType, Vec<u8>)> {
        let mut archive = tar::Archive::new(bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                let h = e.header().clone();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (
                    path,
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.mtime().unwrap(),
                    h.entry_type(),
                    data,
                )
            })
            .collect()
    }

    #[test]
    fn headers_are_deterministic_ustar() {
        let mut b = tar::Builder::new(Vec::new());
        append_directory(&mut b, "overlay/artifacts", 0o755).unwrap();
        append_bytes(&mut b, "overlay/extra-options", 0o644, b"{}\n").unwrap();
        let bytes = b.into_inner().unwrap();
        let first = bytes.get(..512).unwrap();
        assert_eq!(first.get(257..265).unwrap(), b"ustar\x0000");
        assert_eq!(first.get(..18).unwrap(), b"overlay/artifacts\0");
        let got = entries(&bytes);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "overlay/artifacts");
        assert_eq!(got[0].4, EntryType::Directory);
        assert_eq!((got[0].1, got[0].2, got[0].3), (0o755, 0, 0));
        assert_eq!(got[1].0, "overlay/extra-options");
        assert_eq!(got[1].5, b"{}\n");
    }

    #[test]
    fn long_paths_use_pax_records() {
        let long = format!("overlay/artifacts/{}/file", "d".repeat(300));
        let mut b = tar::Builder::new(Vec::new());
        append_bytes(&mut b, &long, 0o644, b"x").unwrap();
        let bytes = b.into_inner().unwrap();
        let got = entries(&bytes);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, long);
        assert_eq!(got[0].5, b"x");
        // The record length counts its own digits.
        let (_, records) = pax_path_header(&long);
        let text = String::from_utf8(records.clone()).unwrap();
        let (len, _) = text.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), records.len());
    }

    #[test]
    fn pax_record_lengths_at_digit_boundaries() {
        for n in 80..120 {
            let (_, records) = pax_path_header(&"a".repeat(n));
            let text = String::from_utf8(records.clone()).unwrap();
            let (len, _) = text.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), records.len(), "{n}");
        }
    }

    #[test]
    fn unclean_paths_are_refused() {
        let long = "a/".repeat(2100);
        for (bad, want) in [
            ("", "empty"),
            ("/usr/bin", "absolute"),
            ("usr//bin", "empty component"),
            ("usr/bin/", "empty component"),
            ("usr/../etc", "`..`"),
            ("./usr", "`.`"),
            ("a\0b", "NUL"),
            (long.as_str(), "longer than 4096"),
        ] {
            let err = check_entry_path(bad).unwrap_err().to_string();
            assert!(err.contains(want), "{bad:?}: {err}");
        }
    }

    #[test]
    fn files_stream_with_their_mode_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        let mut b = tar::Builder::new(Vec::new());
        append_file(&mut b, "f", 0, &path).unwrap();
        let got = entries(&b.into_inner().unwrap());
        assert_eq!(got[0].5, b"abc");
        assert_eq!(got[0].1, 0);
    }
}
