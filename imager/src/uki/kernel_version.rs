//! The kernel release for `.uname`, read from an x86 bzImage header.
//!
//! Upstream writes `.uname` only when it knows the kernel version: from a
//! constant when building for its own Talos version, otherwise from the
//! bzImage boot header (`HdrS` at 0x202, `kernel_version` pointer at 0x20e,
//! relative to 0x200 and bounded by `setup_sects`), cut at the first space.
//! arm64 `Image` files have no such header, so arm64 UKIs have no `.uname`
//! unless the caller knows the release. Like upstream, a header that does not
//! say is "unknown", not an error; only I/O failures are errors.

use std::io::{self, Read, Seek, SeekFrom};

use super::error::UkiError;

/// How much of the image start upstream reads to find the header.
const HEADER_LEN: usize = 1024;
/// How many bytes upstream reads at the version string's offset.
const VERSION_READ_LEN: usize = 256;
/// Offset of the `HdrS` magic.
const HDRS_OFFSET: usize = 0x202;
/// Offset of `setup_sects` (u8).
const SETUP_SECTS_OFFSET: usize = 0x1f1;
/// Offset of `kernel_version` (u16).
const KERNEL_VERSION_OFFSET: usize = 0x20e;

/// Reads the kernel release (`6.18.45-talos`) from a bzImage, or `None` when
/// the image has no (valid) version pointer, as arm64 images do not. The
/// reader is left at offset 0, ready to be streamed into `.linux`.
pub fn discover_kernel_version<R: Read + Seek>(kernel: &mut R) -> Result<Option<String>, UkiError> {
    let found = read_version(kernel).map_err(UkiError::Kernel)?;
    kernel.seek(SeekFrom::Start(0)).map_err(UkiError::Kernel)?;
    Ok(found)
}

fn read_version<R: Read + Seek>(kernel: &mut R) -> io::Result<Option<String>> {
    kernel.seek(SeekFrom::Start(0))?;
    let mut header = [0u8; HEADER_LEN];
    if read_full(kernel, &mut header)? < HEADER_LEN {
        return Ok(None);
    }
    if header.get(HDRS_OFFSET..HDRS_OFFSET + 4) != Some(b"HdrS".as_slice()) {
        return Ok(None);
    }
    let setup_sects = u64::from(header.get(SETUP_SECTS_OFFSET).copied().unwrap_or(0));
    let pointer = header
        .get(KERNEL_VERSION_OFFSET..KERNEL_VERSION_OFFSET + 2)
        .map(|b| {
            u16::from_le_bytes([
                b.first().copied().unwrap_or(0),
                b.get(1).copied().unwrap_or(0),
            ])
        })
        .unwrap_or(0);
    if pointer == 0 || u64::from(pointer) > setup_sects * 0x200 {
        return Ok(None);
    }
    kernel.seek(SeekFrom::Start(u64::from(pointer) + 0x200))?;
    let mut raw = [0u8; VERSION_READ_LEN];
    if read_full(kernel, &mut raw)? < VERSION_READ_LEN {
        return Ok(None);
    }
    let Some(end) = raw.iter().position(|&b| b == 0) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(raw.get(..end).unwrap_or_default()).into_owned();
    let release = text.split(' ').next().unwrap_or_default().to_owned();
    Ok(Some(release))
}

/// Reads until `buf` is full or the stream ends; returns how much was read.
fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = buf.get_mut(filled..).unwrap_or_default();
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A minimal bzImage start: `setup_sects` sectors of setup, the version
    /// string at `offset` past 0x200.
    fn bzimage(setup_sects: u8, offset: u16, version: &[u8]) -> Vec<u8> {
        let mut image = vec![0u8; (usize::from(setup_sects) + 1) * 512 + 4096];
        image[SETUP_SECTS_OFFSET] = setup_sects;
        image[HDRS_OFFSET..HDRS_OFFSET + 4].copy_from_slice(b"HdrS");
        image[KERNEL_VERSION_OFFSET..KERNEL_VERSION_OFFSET + 2]
            .copy_from_slice(&offset.to_le_bytes());
        let at = usize::from(offset) + 0x200;
        image[at..at + version.len()].copy_from_slice(version);
        image
    }

    #[test]
    fn reads_the_release_up_to_the_first_space() {
        let image = bzimage(30, 0x3000, b"6.18.45-talos (root@buildkitsandbox) #1 SMP\0");
        let mut cursor = Cursor::new(image);
        cursor.set_position(77);
        let release = discover_kernel_version(&mut cursor).unwrap();
        assert_eq!(release.as_deref(), Some("6.18.45-talos"));
        assert_eq!(cursor.position(), 0);
    }

    #[test]
    fn unknown_when_the_header_does_not_say() {
        let cases = [
            vec![0u8; 100],                    // too short
            vec![0u8; 8192],                   // no HdrS (an arm64 Image)
            bzimage(30, 0, b"6.1\0"),          // no pointer
            bzimage(4, 0x900, b"6.1\0"),       // pointer past the setup
            bzimage(30, 0x1000, &[b'x'; 300]), // no NUL in 256 bytes
        ];
        for image in cases {
            assert_eq!(
                discover_kernel_version(&mut Cursor::new(image)).unwrap(),
                None
            );
        }
    }
}
