//! The PE section appender: the stub's image plus new sections, streamed.
//!
//! Hand-written rather than built on a PE crate on purpose: `goblin` and
//! `object` read PE well, but `object`'s PE writer lays out a whole image
//! from scratch in a memory buffer (a linker's job), while a UKI is the
//! stub's headers copied with a few fields changed, followed by sections of
//! which one is a 100 MB initrd that must be streamed. The format work here
//! is small: about ten header fields and a section table.
//!
//! What it writes, following upstream's `AssembleNative`:
//!
//! - the stub's first 64 DOS header bytes with `e_lfanew = 0x80`, 64 zero
//!   bytes in place of the DOS program, then `PE\0\0`;
//! - the COFF header with the new section count and the given timestamp;
//! - the stub's optional header with linker version and `CheckSum` zeroed,
//!   and `SizeOfCode`, `SizeOfInitializedData`, `SizeOfHeaders` and
//!   `SizeOfImage` recomputed;
//! - the stub's section headers with their virtual addresses unchanged, then
//!   one per new section, each at the next `SectionAlignment` boundary after
//!   the previous one, `VirtualSize` = contents length, `SizeOfRawData` =
//!   length rounded up to `FileAlignment`, flags initialised read-only data;
//! - all raw data re-laid out back to back from `SizeOfHeaders`, each
//!   section zero-padded to its `SizeOfRawData`.
//!
//! Where this differs from upstream, it is for stubs upstream refuses or
//! mishandles, never for Talos's own stubs:
//!
//! - a COFF symbol table (Debian's 252 stub has one; upstream refuses it) is
//!   dropped: it is deprecated debug data in an image, lies outside every
//!   section, and no loader reads it;
//! - a certificate table entry (data directory 4, a *file offset*) is
//!   cleared, since the signature it points to neither survives appending
//!   nor is copied; upstream would leave it pointing into our sections;
//! - sizes that overflow the 32-bit fields are errors instead of wrapping;
//! - `SizeOfCode`/`SizeOfInitializedData` count sections by their code and
//!   initialised-data flags as the PE specification defines them (upstream
//!   counts everything not flagged initialised data as code; the same for
//!   systemd stubs, whose only code section is `.text`);
//! - a section without raw data gets `PointerToRawData = 0`, as the
//!   specification asks.

use std::io::{Read, Write};

use super::MAX_SECTIONS;
use super::checksum::ChecksumWriter;
use super::error::UkiError;
use super::layout::{SectionLayout, UkiLayout};
use super::le::{align_up, put};
use super::section::{NewSection, SectionData};
use super::stub::{
    COFF_HEADER_LEN, DOS_HEADER_LEN, PE_SIGNATURE, SCN_CNT_CODE, SCN_CNT_INITIALIZED_DATA,
    SCN_MEM_READ, SECTION_HEADER_LEN, SectionHeader, Stub, coff, opt,
};

/// Where the PE signature goes: right after the DOS header and 64 zero bytes.
const PE_OFFSET: usize = 0x80;
/// Offset of `e_lfanew` in the DOS header.
const E_LFANEW_OFFSET: usize = 0x3c;
/// Chunk size for streamed sections.
const COPY_CHUNK: usize = 64 * 1024;

/// Where a section's bytes come from while writing.
enum Source<'s, 'a> {
    Stub(&'s [u8]),
    New(SectionData<'a>),
}

/// A section ready to be written.
struct Planned<'s, 'a> {
    header: SectionHeader,
    source: Source<'s, 'a>,
}

/// Appends `sections`, in order, to the PE image `stub` and writes the result
/// to `out`, streaming section contents. `timestamp` becomes the COFF
/// `TimeDateStamp` (upstream: `SOURCE_DATE_EPOCH`, else the current time);
/// with a fixed timestamp the output is fully deterministic.
///
/// This is the general appender under [`assemble`](super::assemble), public
/// so that signed builds can add `.pcrpkey` and `.pcrsig` in their places.
pub fn append_sections<W: Write>(
    stub: &[u8],
    sections: Vec<NewSection<'_>>,
    timestamp: u32,
    out: W,
) -> Result<UkiLayout, UkiError> {
    let stub = Stub::parse(stub)?;
    let count = stub.sections.len() + sections.len();
    if count > MAX_SECTIONS {
        return Err(UkiError::TooManySections {
            count,
            max: MAX_SECTIONS,
        });
    }
    let section_alignment = u64::from(stub.section_alignment);
    let file_alignment = u64::from(stub.file_alignment);

    // Headers: DOS + PE signature + COFF + optional header + section table.
    let optional_len = stub.optional_header.len();
    let headers_len = PE_OFFSET + PE_SIGNATURE.len() + COFF_HEADER_LEN + optional_len;
    let headers_len = headers_len as u64 + (count * SECTION_HEADER_LEN) as u64;
    let size_of_headers = align(headers_len, file_alignment, "SizeOfHeaders", "headers")?;
    let first_section = stub
        .sections
        .iter()
        .map(|s| s.header.virtual_address)
        .min()
        .unwrap_or(0);
    // Headers must end before the first section is mapped; this also makes
    // SizeOfHeaders fit in its 32-bit field.
    if size_of_headers > u64::from(first_section) {
        return Err(UkiError::HeadersOverlapSections {
            size_of_headers,
            first_section,
        });
    }
    let size_of_headers = fit(size_of_headers, "SizeOfHeaders", "headers")?;

    // Virtual layout: stub sections keep their addresses; ours follow.
    let stub_end = stub
        .sections
        .iter()
        .map(|s| s.header.virtual_end())
        .max()
        .unwrap_or(0);
    let mut next_va = align(stub_end, section_alignment, "VirtualAddress", "stub")?;
    let mut planned: Vec<Planned<'_, '_>> = stub
        .sections
        .iter()
        .map(|s| Planned {
            header: s.header.clone(),
            source: Source::Stub(s.data),
        })
        .collect();
    for section in sections {
        let name = section.name.to_string();
        let len = section.data.len();
        if len == 0 {
            return Err(UkiError::EmptySection { name });
        }
        let virtual_size = fit(len, "VirtualSize", &name)?;
        let virtual_address = fit(next_va, "VirtualAddress", &name)?;
        let end = next_va + len;
        fit(end, "SizeOfImage", &name)?;
        let size_of_raw_data = fit(
            align(len, file_alignment, "SizeOfRawData", &name)?,
            "SizeOfRawData",
            &name,
        )?;
        next_va = align(end, section_alignment, "VirtualAddress", &name)?;
        planned.push(Planned {
            header: SectionHeader {
                name: section.name.to_field(),
                virtual_size,
                virtual_address,
                size_of_raw_data,
                pointer_to_raw_data: 0,
                characteristics: SCN_CNT_INITIALIZED_DATA | SCN_MEM_READ,
            },
            source: Source::New(section.data),
        });
    }

    // File layout: every section's raw data back to back after the headers.
    let mut offset = u64::from(size_of_headers);
    for p in &mut planned {
        if p.header.size_of_raw_data == 0 {
            p.header.pointer_to_raw_data = 0;
            continue;
        }
        let name = p.header.name_string();
        p.header.pointer_to_raw_data = fit(offset, "PointerToRawData", &name)?;
        offset += u64::from(p.header.size_of_raw_data);
        fit(offset, "file size", &name)?;
    }
    let image_end = planned
        .iter()
        .map(|p| p.header.virtual_end())
        .max()
        .unwrap_or(0);
    let size_of_image = fit(
        align(image_end, section_alignment, "SizeOfImage", "image")?,
        "SizeOfImage",
        "image",
    )?;
    let sum_raw = |flag: fn(u32) -> bool| -> Result<u32, UkiError> {
        let total: u64 = planned
            .iter()
            .filter(|p| flag(p.header.characteristics))
            .map(|p| u64::from(p.header.size_of_raw_data))
            .sum();
        fit(total, "SizeOf{Code,InitializedData}", "image")
    };
    let size_of_code = sum_raw(|c| c & SCN_CNT_CODE != 0)?;
    let size_of_initialized_data =
        sum_raw(|c| c & SCN_CNT_CODE == 0 && c & SCN_CNT_INITIALIZED_DATA != 0)?;

    let headers = build_headers(
        &stub,
        &planned,
        timestamp,
        HeaderSizes {
            size_of_code,
            size_of_initialized_data,
            size_of_headers,
            size_of_image,
        },
    );

    // Write.
    let mut out = ChecksumWriter::new(out);
    let write_err = |what: String| move |source| UkiError::Write { what, source };
    out.write_all(&headers)
        .map_err(write_err("headers".to_owned()))?;
    out.write_zeros(u64::from(size_of_headers).saturating_sub(headers.len() as u64))
        .map_err(write_err("headers".to_owned()))?;
    let mut buffer = vec![0u8; COPY_CHUNK];
    let mut layout = Vec::with_capacity(planned.len());
    for p in planned {
        let name = p.header.name_string();
        let what = format!("section {name}");
        let (written, from_stub) = match p.source {
            Source::Stub(bytes) => {
                out.write_all(bytes).map_err(write_err(what.clone()))?;
                (bytes.len() as u64, true)
            }
            Source::New(SectionData::Bytes(bytes)) => {
                out.write_all(&bytes).map_err(write_err(what.clone()))?;
                (bytes.len() as u64, false)
            }
            Source::New(SectionData::Stream(mut stream)) => {
                let len = stream.len();
                copy_exact(stream.reader(), len, &mut out, &mut buffer, &name)?;
                (len, false)
            }
        };
        let padding = u64::from(p.header.size_of_raw_data).saturating_sub(written);
        out.write_zeros(padding).map_err(write_err(what))?;
        layout.push(SectionLayout {
            name,
            from_stub,
            virtual_address: p.header.virtual_address,
            virtual_size: p.header.virtual_size,
            file_offset: p.header.pointer_to_raw_data,
            raw_size: p.header.size_of_raw_data,
        });
    }
    let file_size = out.written();
    let checksum = out.finish().map_err(write_err("output".to_owned()))?;

    Ok(UkiLayout {
        sections: layout,
        section_alignment: stub.section_alignment,
        file_alignment: stub.file_alignment,
        size_of_headers,
        size_of_image,
        size_of_code,
        size_of_initialized_data,
        file_size,
        checksum,
        checksum_offset: (PE_OFFSET + PE_SIGNATURE.len() + COFF_HEADER_LEN + opt::CHECKSUM) as u64,
    })
}

/// The recomputed optional header sizes.
struct HeaderSizes {
    size_of_code: u32,
    size_of_initialized_data: u32,
    size_of_headers: u32,
    size_of_image: u32,
}

/// DOS header, PE signature, COFF header, optional header and section table.
fn build_headers(
    stub: &Stub<'_>,
    planned: &[Planned<'_, '_>],
    timestamp: u32,
    sizes: HeaderSizes,
) -> Vec<u8> {
    let mut headers = Vec::with_capacity(
        PE_OFFSET
            + PE_SIGNATURE.len()
            + COFF_HEADER_LEN
            + stub.optional_header.len()
            + planned.len() * SECTION_HEADER_LEN,
    );
    let mut dos = stub.dos_header;
    put(&mut dos, E_LFANEW_OFFSET, &(PE_OFFSET as u32).to_le_bytes());
    headers.extend_from_slice(&dos);
    headers.resize(PE_OFFSET, 0);
    debug_assert_eq!(DOS_HEADER_LEN * 2, PE_OFFSET);
    headers.extend_from_slice(&PE_SIGNATURE);

    let mut file_header = stub.file_header;
    // `count` was checked against MAX_SECTIONS (96), so it fits in a u16.
    put(
        &mut file_header,
        coff::NUMBER_OF_SECTIONS,
        &(planned.len() as u16).to_le_bytes(),
    );
    put(
        &mut file_header,
        coff::TIME_DATE_STAMP,
        &timestamp.to_le_bytes(),
    );
    put(&mut file_header, coff::POINTER_TO_SYMBOL_TABLE, &[0; 4]);
    put(&mut file_header, coff::NUMBER_OF_SYMBOLS, &[0; 4]);
    headers.extend_from_slice(&file_header);

    let mut optional = stub.optional_header.to_vec();
    put(&mut optional, opt::MAJOR_LINKER_VERSION, &[0]);
    put(&mut optional, opt::MINOR_LINKER_VERSION, &[0]);
    put(
        &mut optional,
        opt::SIZE_OF_CODE,
        &sizes.size_of_code.to_le_bytes(),
    );
    put(
        &mut optional,
        opt::SIZE_OF_INITIALIZED_DATA,
        &sizes.size_of_initialized_data.to_le_bytes(),
    );
    put(
        &mut optional,
        opt::SIZE_OF_IMAGE,
        &sizes.size_of_image.to_le_bytes(),
    );
    put(
        &mut optional,
        opt::SIZE_OF_HEADERS,
        &sizes.size_of_headers.to_le_bytes(),
    );
    put(&mut optional, opt::CHECKSUM, &[0; 4]);
    let certificate_entry = opt::DATA_DIRECTORIES + opt::CERTIFICATE_TABLE_INDEX * 8;
    if optional.len() >= certificate_entry + 8 {
        put(&mut optional, certificate_entry, &[0; 8]);
    }
    headers.extend_from_slice(&optional);

    for p in planned {
        headers.extend_from_slice(&p.header.to_bytes());
    }
    headers
}

/// Copies exactly `len` bytes of section `name` from `reader` to `out`.
fn copy_exact<W: Write>(
    reader: &mut dyn Read,
    len: u64,
    out: &mut ChecksumWriter<W>,
    buffer: &mut [u8],
    name: &str,
) -> Result<(), UkiError> {
    let mut remaining = len;
    while remaining > 0 {
        let want = remaining.min(buffer.len() as u64) as usize;
        let chunk = buffer.get_mut(..want).unwrap_or_default();
        let n = read_some(reader, chunk, name)?;
        if n == 0 {
            return Err(UkiError::LengthMismatch {
                name: name.to_owned(),
                expected: len,
                actual: format!("ended after {} bytes", len - remaining),
            });
        }
        out.write_all(chunk.get(..n).unwrap_or_default())
            .map_err(|source| UkiError::Write {
                what: format!("section {name}"),
                source,
            })?;
        remaining -= n as u64;
    }
    let mut probe = [0u8; 1];
    if read_some(reader, &mut probe, name)? != 0 {
        return Err(UkiError::LengthMismatch {
            name: name.to_owned(),
            expected: len,
            actual: "has more".to_owned(),
        });
    }
    Ok(())
}

/// One `read`, retried on `Interrupted`.
fn read_some(reader: &mut dyn Read, buf: &mut [u8], name: &str) -> Result<usize, UkiError> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(UkiError::Read {
                    name: name.to_owned(),
                    source,
                });
            }
        }
    }
}

/// `value` rounded up to `alignment`, or an overflow error.
fn align(value: u64, alignment: u64, field: &'static str, name: &str) -> Result<u64, UkiError> {
    align_up(value, alignment).ok_or_else(|| UkiError::TooLarge {
        name: name.to_owned(),
        field,
        value,
    })
}

/// `value` as a 32-bit PE field, or an overflow error.
fn fit(value: u64, field: &'static str, name: &str) -> Result<u32, UkiError> {
    u32::try_from(value).map_err(|_| UkiError::TooLarge {
        name: name.to_owned(),
        field,
        value,
    })
}
