//! Sections to append: a checked PE section name and where its bytes come from.
//!
//! Small sections (`.osrel`, `.cmdline`, `.uname`, `.profile`, a splash) are
//! held in memory, bounded by [`MAX_INLINE_SECTION_LEN`]. The kernel and the
//! initrd are streams with a length announced up front: the PE headers, which
//! come first in the file, need every section's size, and asking for the
//! length (a file's metadata, a blob's descriptor) lets the initrd be copied
//! once, in bounded chunks, straight from its source to the output.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek};

use super::MAX_INLINE_SECTION_LEN;
use super::error::UkiError;

/// A PE section name: 1 to 8 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SectionName(Cow<'static, str>);

impl SectionName {
    /// `.linux`: the kernel.
    pub const LINUX: SectionName = SectionName(Cow::Borrowed(".linux"));
    /// `.osrel`: os-release of the booted OS.
    pub const OSREL: SectionName = SectionName(Cow::Borrowed(".osrel"));
    /// `.cmdline`: the kernel command line.
    pub const CMDLINE: SectionName = SectionName(Cow::Borrowed(".cmdline"));
    /// `.initrd`: the initramfs.
    pub const INITRD: SectionName = SectionName(Cow::Borrowed(".initrd"));
    /// `.splash`: a boot splash BMP.
    pub const SPLASH: SectionName = SectionName(Cow::Borrowed(".splash"));
    /// `.uname`: the kernel release (`uname -r`).
    pub const UNAME: SectionName = SectionName(Cow::Borrowed(".uname"));
    /// `.sbat`: the stub's SBAT revocation metadata (kept from the stub).
    pub const SBAT: SectionName = SectionName(Cow::Borrowed(".sbat"));
    /// `.profile`: a UKI profile header (systemd ≥ 257).
    pub const PROFILE: SectionName = SectionName(Cow::Borrowed(".profile"));
    /// `.pcrsig`: signed PCR 11 policies (SecureBoot builds).
    pub const PCRSIG: SectionName = SectionName(Cow::Borrowed(".pcrsig"));
    /// `.pcrpkey`: the PCR signing public key (SecureBoot builds).
    pub const PCRPKEY: SectionName = SectionName(Cow::Borrowed(".pcrpkey"));

    /// Checks a name: PE image section names are at most 8 bytes, and we
    /// accept printable ASCII only so that every tool prints them alike.
    pub fn new(name: &str) -> Result<Self, UkiError> {
        let ok = (1..=8).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(SectionName(Cow::Owned(name.to_owned())))
        } else {
            Err(UkiError::InvalidSectionName(
                name.chars().take(64).collect(),
            ))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The NUL-padded 8-byte field of a section header.
    pub(crate) fn to_field(&self) -> [u8; 8] {
        let mut field = [0u8; 8];
        for (dst, src) in field.iter_mut().zip(self.0.bytes()) {
            *dst = src;
        }
        field
    }
}

impl fmt::Display for SectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A section's bytes read from a stream of known length (the kernel, the
/// initrd). The stream must yield exactly `len` bytes: fewer or more is an
/// error, because the headers already promised `len`.
pub struct SectionStream<'a> {
    reader: &'a mut dyn Read,
    len: u64,
}

impl<'a> SectionStream<'a> {
    /// A stream that will yield exactly `len` bytes.
    pub fn new(reader: &'a mut dyn Read, len: u64) -> Self {
        SectionStream { reader, len }
    }

    /// The rest of `file`, from its current position to its end.
    pub fn from_file(file: &'a mut File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        let position = file.stream_position()?;
        Ok(SectionStream {
            len: len.saturating_sub(position),
            reader: file,
        })
    }

    /// The announced length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the announced length is zero.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn reader(&mut self) -> &mut dyn Read {
        self.reader
    }
}

impl fmt::Debug for SectionStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SectionStream")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Where an appended section's bytes come from.
#[derive(Debug)]
pub enum SectionData<'a> {
    /// Bytes in memory, at most [`MAX_INLINE_SECTION_LEN`].
    Bytes(Vec<u8>),
    /// A stream of known length.
    Stream(SectionStream<'a>),
}

impl SectionData<'_> {
    /// The section's length in bytes (its `VirtualSize`).
    pub fn len(&self) -> u64 {
        match self {
            SectionData::Bytes(bytes) => bytes.len() as u64,
            SectionData::Stream(stream) => stream.len(),
        }
    }

    /// Whether the section is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A section to append after the stub's own.
#[derive(Debug)]
pub struct NewSection<'a> {
    /// Its name.
    pub name: SectionName,
    /// Its contents.
    pub data: SectionData<'a>,
}

impl<'a> NewSection<'a> {
    /// An in-memory section, refused above [`MAX_INLINE_SECTION_LEN`].
    pub fn bytes(name: SectionName, bytes: impl Into<Vec<u8>>) -> Result<Self, UkiError> {
        let bytes = bytes.into();
        if bytes.len() > MAX_INLINE_SECTION_LEN {
            return Err(UkiError::InlineSectionTooLarge {
                name: name.to_string(),
                len: bytes.len(),
                max: MAX_INLINE_SECTION_LEN,
            });
        }
        Ok(NewSection {
            name,
            data: SectionData::Bytes(bytes),
        })
    }

    /// A streamed section.
    pub fn stream(name: SectionName, stream: SectionStream<'a>) -> Self {
        NewSection {
            name,
            data: SectionData::Stream(stream),
        }
    }
}
