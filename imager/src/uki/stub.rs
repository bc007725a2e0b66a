//! Reading the systemd-stub: the PE32+ headers and section table we extend.
//!
//! Only what the assembler needs is decoded: the DOS header (whose first 64
//! bytes are kept), the COFF file header, the optional header (kept byte for
//! byte, a few fields patched later), the alignments and the section table
//! with each section's raw bytes. Everything is bounds-checked against the
//! file, and the stub is refused early for anything an EFI loader would
//! refuse too (wrong magic, non-power-of-two alignments), so that the
//! writer can assume a sane layout.

use super::MAX_SECTIONS;
use super::MAX_STUB_LEN;
use super::error::StubError;
use super::le::{array, slice, u16_at, u32_at, u64_at};

/// Length of the DOS (MZ) header proper; `e_lfanew` is its last field.
pub(crate) const DOS_HEADER_LEN: usize = 0x40;
/// Offset of `e_lfanew` in the DOS header.
const E_LFANEW_OFFSET: usize = 0x3c;
/// `MZ`.
const DOS_MAGIC: u16 = 0x5a4d;
/// `PE\0\0`.
pub(crate) const PE_SIGNATURE: [u8; 4] = *b"PE\0\0";
/// The COFF file header.
pub(crate) const COFF_HEADER_LEN: usize = 20;
/// One section table entry.
pub(crate) const SECTION_HEADER_LEN: usize = 40;
/// The optional header magic of PE32+ images.
const PE32_PLUS_MAGIC: u16 = 0x20b;
/// The PE32+ optional header up to (not including) the data directories.
const OPTIONAL_FIXED_LEN: usize = 112;
/// The largest `FileAlignment` the PE specification allows.
const MAX_FILE_ALIGNMENT: u32 = 0x10000;
/// The smallest `FileAlignment` the PE specification allows.
const MIN_FILE_ALIGNMENT: u32 = 0x200;

/// Offsets of COFF file header fields.
pub(crate) mod coff {
    /// `NumberOfSections` (u16).
    pub(crate) const NUMBER_OF_SECTIONS: usize = 2;
    /// `TimeDateStamp` (u32).
    pub(crate) const TIME_DATE_STAMP: usize = 4;
    /// `PointerToSymbolTable` (u32).
    pub(crate) const POINTER_TO_SYMBOL_TABLE: usize = 8;
    /// `NumberOfSymbols` (u32).
    pub(crate) const NUMBER_OF_SYMBOLS: usize = 12;
    /// `SizeOfOptionalHeader` (u16).
    pub(crate) const SIZE_OF_OPTIONAL_HEADER: usize = 16;
}

/// Offsets of PE32+ optional header fields.
pub(crate) mod opt {
    /// `MajorLinkerVersion` (u8).
    pub(crate) const MAJOR_LINKER_VERSION: usize = 2;
    /// `MinorLinkerVersion` (u8).
    pub(crate) const MINOR_LINKER_VERSION: usize = 3;
    /// `SizeOfCode` (u32).
    pub(crate) const SIZE_OF_CODE: usize = 4;
    /// `SizeOfInitializedData` (u32).
    pub(crate) const SIZE_OF_INITIALIZED_DATA: usize = 8;
    /// `SectionAlignment` (u32).
    pub(crate) const SECTION_ALIGNMENT: usize = 32;
    /// `FileAlignment` (u32).
    pub(crate) const FILE_ALIGNMENT: usize = 36;
    /// `SizeOfImage` (u32).
    pub(crate) const SIZE_OF_IMAGE: usize = 56;
    /// `SizeOfHeaders` (u32).
    pub(crate) const SIZE_OF_HEADERS: usize = 60;
    /// `CheckSum` (u32).
    pub(crate) const CHECKSUM: usize = 64;
    /// `NumberOfRvaAndSizes` (u32).
    pub(crate) const NUMBER_OF_RVA_AND_SIZES: usize = 108;
    /// The first data directory.
    pub(crate) const DATA_DIRECTORIES: usize = 112;
    /// Index of the certificate table (a file offset, not an RVA).
    pub(crate) const CERTIFICATE_TABLE_INDEX: usize = 4;
}

/// `IMAGE_SCN_CNT_CODE`.
pub(crate) const SCN_CNT_CODE: u32 = 0x0000_0020;
/// `IMAGE_SCN_CNT_INITIALIZED_DATA`.
pub(crate) const SCN_CNT_INITIALIZED_DATA: u32 = 0x0000_0040;
/// `IMAGE_SCN_MEM_READ`.
pub(crate) const SCN_MEM_READ: u32 = 0x4000_0000;

/// One section table entry, without the COFF relocation and line-number
/// fields (they must be zero in an image, and upstream writes them as zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SectionHeader {
    /// The name, NUL-padded.
    pub(crate) name: [u8; 8],
    /// `VirtualSize`.
    pub(crate) virtual_size: u32,
    /// `VirtualAddress`.
    pub(crate) virtual_address: u32,
    /// `SizeOfRawData`.
    pub(crate) size_of_raw_data: u32,
    /// `PointerToRawData`.
    pub(crate) pointer_to_raw_data: u32,
    /// `Characteristics`.
    pub(crate) characteristics: u32,
}

impl SectionHeader {
    fn parse(bytes: &[u8], offset: usize) -> Result<Self, StubError> {
        const WHAT: &str = "section header";
        let entry = slice(bytes, offset, SECTION_HEADER_LEN, WHAT)?;
        Ok(SectionHeader {
            name: array(entry, 0, WHAT)?,
            virtual_size: u32_at(entry, 8, WHAT)?,
            virtual_address: u32_at(entry, 12, WHAT)?,
            size_of_raw_data: u32_at(entry, 16, WHAT)?,
            pointer_to_raw_data: u32_at(entry, 20, WHAT)?,
            characteristics: u32_at(entry, 36, WHAT)?,
        })
    }

    /// The 40-byte table entry.
    pub(crate) fn to_bytes(&self) -> [u8; SECTION_HEADER_LEN] {
        let mut out = [0u8; SECTION_HEADER_LEN];
        let fields: [(usize, &[u8]); 6] = [
            (0, &self.name),
            (8, &self.virtual_size.to_le_bytes()),
            (12, &self.virtual_address.to_le_bytes()),
            (16, &self.size_of_raw_data.to_le_bytes()),
            (20, &self.pointer_to_raw_data.to_le_bytes()),
            (36, &self.characteristics.to_le_bytes()),
        ];
        for (offset, value) in fields {
            super::le::put(&mut out, offset, value);
        }
        out
    }

    /// The name without its NUL padding, lossily decoded.
    pub(crate) fn name_string(&self) -> String {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(8);
        String::from_utf8_lossy(self.name.get(..end).unwrap_or_default()).into_owned()
    }

    /// Where the section ends in memory: `VirtualAddress + VirtualSize`, or
    /// `+ SizeOfRawData` for the rare linker that leaves `VirtualSize` zero.
    pub(crate) fn virtual_end(&self) -> u64 {
        let size = if self.virtual_size == 0 {
            self.size_of_raw_data
        } else {
            self.virtual_size
        };
        u64::from(self.virtual_address) + u64::from(size)
    }
}

/// A stub section: its header and its raw bytes (`SizeOfRawData` of them).
#[derive(Debug)]
pub(crate) struct StubSection<'a> {
    /// The header as the stub has it.
    pub(crate) header: SectionHeader,
    /// The raw data, copied unchanged into the UKI.
    pub(crate) data: &'a [u8],
}

/// A parsed systemd-stub.
#[derive(Debug)]
pub(crate) struct Stub<'a> {
    /// The DOS header's first 64 bytes (the DOS program after it is dropped).
    pub(crate) dos_header: [u8; DOS_HEADER_LEN],
    /// The COFF file header.
    pub(crate) file_header: [u8; COFF_HEADER_LEN],
    /// The optional header, `SizeOfOptionalHeader` bytes.
    pub(crate) optional_header: &'a [u8],
    /// `SectionAlignment`.
    pub(crate) section_alignment: u32,
    /// `FileAlignment`.
    pub(crate) file_alignment: u32,
    /// The section table in file order, with each section's bytes.
    pub(crate) sections: Vec<StubSection<'a>>,
}

impl<'a> Stub<'a> {
    /// Parses and sanity-checks a PE32+ stub.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, StubError> {
        if bytes.len() > MAX_STUB_LEN {
            return Err(StubError::TooLarge {
                len: bytes.len(),
                max: MAX_STUB_LEN,
            });
        }
        let dos_header: [u8; DOS_HEADER_LEN] = array(bytes, 0, "DOS header")?;
        let mz = u16_at(&dos_header, 0, "DOS magic")?;
        if mz != DOS_MAGIC {
            return Err(StubError::BadMagic {
                what: "DOS magic",
                found: mz.into(),
                expected: DOS_MAGIC.into(),
            });
        }
        let pe_offset = u32_at(&dos_header, E_LFANEW_OFFSET, "e_lfanew")? as usize;
        let signature: [u8; 4] = array(bytes, pe_offset, "PE signature")?;
        if signature != PE_SIGNATURE {
            return Err(StubError::BadMagic {
                what: "PE signature",
                found: u32::from_le_bytes(signature),
                expected: u32::from_le_bytes(PE_SIGNATURE),
            });
        }
        let coff_offset = pe_offset.saturating_add(PE_SIGNATURE.len());
        let file_header: [u8; COFF_HEADER_LEN] = array(bytes, coff_offset, "COFF file header")?;
        let section_count = usize::from(u16_at(&file_header, coff::NUMBER_OF_SECTIONS, "")?);
        if section_count == 0 || section_count > MAX_SECTIONS {
            return Err(StubError::BadField {
                field: "NumberOfSections",
                value: section_count as u64,
                reason: "a stub has between 1 and 96 sections",
            });
        }
        let optional_len = usize::from(u16_at(&file_header, coff::SIZE_OF_OPTIONAL_HEADER, "")?);
        let optional_offset = coff_offset.saturating_add(COFF_HEADER_LEN);
        let optional_header = slice(bytes, optional_offset, optional_len, "optional header")?;
        let magic = u16_at(optional_header, 0, "optional header magic")?;
        if magic != PE32_PLUS_MAGIC {
            return Err(StubError::BadMagic {
                what: "optional header magic (PE32+ expected)",
                found: magic.into(),
                expected: PE32_PLUS_MAGIC.into(),
            });
        }
        if optional_len < OPTIONAL_FIXED_LEN {
            return Err(StubError::BadField {
                field: "SizeOfOptionalHeader",
                value: optional_len as u64,
                reason: "shorter than the PE32+ fixed fields",
            });
        }
        let directories = u32_at(optional_header, opt::NUMBER_OF_RVA_AND_SIZES, "")?;
        if OPTIONAL_FIXED_LEN as u64 + u64::from(directories) * 8 > optional_len as u64 {
            return Err(StubError::BadField {
                field: "NumberOfRvaAndSizes",
                value: directories.into(),
                reason: "the data directories do not fit in SizeOfOptionalHeader",
            });
        }
        let section_alignment = u32_at(optional_header, opt::SECTION_ALIGNMENT, "")?;
        let file_alignment = u32_at(optional_header, opt::FILE_ALIGNMENT, "")?;
        if !file_alignment.is_power_of_two()
            || !(MIN_FILE_ALIGNMENT..=MAX_FILE_ALIGNMENT).contains(&file_alignment)
        {
            return Err(StubError::BadField {
                field: "FileAlignment",
                value: file_alignment.into(),
                reason: "must be a power of two from 512 to 64 KiB",
            });
        }
        if !section_alignment.is_power_of_two() || section_alignment < file_alignment {
            return Err(StubError::BadField {
                field: "SectionAlignment",
                value: section_alignment.into(),
                reason: "must be a power of two no smaller than FileAlignment",
            });
        }
        // ImageBase is only read to check the header is whole.
        u64_at(optional_header, 24, "ImageBase")?;

        let table_offset = optional_offset.saturating_add(optional_len);
        let mut sections = Vec::with_capacity(section_count);
        for i in 0..section_count {
            let offset = table_offset.saturating_add(i.saturating_mul(SECTION_HEADER_LEN));
            let header = SectionHeader::parse(bytes, offset)?;
            let data = if header.size_of_raw_data == 0 {
                &[][..]
            } else {
                slice(
                    bytes,
                    header.pointer_to_raw_data as usize,
                    header.size_of_raw_data as usize,
                    "section data",
                )
                .map_err(|_| StubError::SectionOutOfFile {
                    name: header.name_string(),
                    offset: header.pointer_to_raw_data,
                    size: header.size_of_raw_data,
                    len: bytes.len(),
                })?
            };
            sections.push(StubSection { header, data });
        }

        Ok(Stub {
            dos_header,
            file_header,
            optional_header,
            section_alignment,
            file_alignment,
            sections,
        })
    }

    /// The first section with this name.
    pub(crate) fn section(&self, name: &str) -> Option<&StubSection<'a>> {
        self.sections
            .iter()
            .find(|s| s.header.name_string() == name)
    }

    /// The stub's `.sbat` contents, trimmed to its `VirtualSize` as upstream
    /// reads it (the raw data is padded to `FileAlignment`).
    pub(crate) fn sbat(&self) -> Result<&'a [u8], StubError> {
        let section = self.section(".sbat").ok_or(StubError::NoSbat)?;
        let len = (section.header.virtual_size as usize).min(section.data.len());
        Ok(section.data.get(..len).unwrap_or_default())
    }
}
