//! What was written: the section table of the assembled UKI and its checksum.
//!
//! Returned by [`assemble`](super::assemble) so callers (and tests) can check
//! placement without parsing the output again, and so the PE checksum, which
//! is only known once the last byte is written, can be filled in afterwards
//! on a seekable output.

use std::io::{Seek, SeekFrom, Write};

use super::error::UkiError;

/// One section of the assembled image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionLayout {
    /// The section name.
    pub name: String,
    /// Whether it was copied from the stub (otherwise it was appended).
    pub from_stub: bool,
    /// `VirtualAddress` (RVA).
    pub virtual_address: u32,
    /// `VirtualSize`: the contents' length for appended sections.
    pub virtual_size: u32,
    /// `PointerToRawData` (zero for a section without raw data).
    pub file_offset: u32,
    /// `SizeOfRawData`: the length rounded up to `FileAlignment`.
    pub raw_size: u32,
}

/// The layout of an assembled UKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UkiLayout {
    /// Every section in table (and file) order: the stub's, then ours.
    pub sections: Vec<SectionLayout>,
    /// The stub's `SectionAlignment`, kept.
    pub section_alignment: u32,
    /// The stub's `FileAlignment`, kept.
    pub file_alignment: u32,
    /// The new `SizeOfHeaders`.
    pub size_of_headers: u32,
    /// The new `SizeOfImage`.
    pub size_of_image: u32,
    /// The new `SizeOfCode`.
    pub size_of_code: u32,
    /// The new `SizeOfInitializedData`.
    pub size_of_initialized_data: u32,
    /// Bytes written.
    pub file_size: u64,
    /// The PE checksum of the file as written (its `CheckSum` field is zero,
    /// as upstream leaves it); [`Self::write_checksum`] stores it.
    pub checksum: u32,
    /// File offset of the `CheckSum` field.
    pub checksum_offset: u64,
}

impl UkiLayout {
    /// The sections with this name, in order (a multi-profile UKI has several
    /// `.profile` and `.cmdline` sections).
    pub fn sections_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a SectionLayout> {
        self.sections.iter().filter(move |s| s.name == name)
    }

    /// Stores [`Self::checksum`] in the `CheckSum` field of the UKI just
    /// written to `out` (which must hold it from offset 0), then seeks back
    /// to where `out` was. Storing the sum
    /// does not change it: the field counts as zero in its own computation.
    pub fn write_checksum<W: Write + Seek>(&self, out: &mut W) -> Result<(), UkiError> {
        let write_err = |source| UkiError::Write {
            what: "checksum".to_owned(),
            source,
        };
        let position = out.stream_position().map_err(write_err)?;
        out.seek(SeekFrom::Start(self.checksum_offset))
            .map_err(write_err)?;
        out.write_all(&self.checksum.to_le_bytes())
            .map_err(write_err)?;
        out.seek(SeekFrom::Start(position)).map_err(write_err)?;
        out.flush().map_err(write_err)
    }
}
