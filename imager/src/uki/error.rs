//! Why a UKI cannot be assembled.
//!
//! Two families: the stub is not a PE image we can extend ([`StubError`],
//! naming the header field and offset that is wrong, because the reader is
//! someone holding a file from an upstream image), and the inputs or the
//! output fail ([`UkiError`], naming the section being read or written, since
//! a 100 MB initrd stream failing half-way is otherwise anonymous).

use std::io;

/// The systemd-stub is not a PE32+ image this assembler can extend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StubError {
    /// The stub is larger than [`MAX_STUB_LEN`](super::MAX_STUB_LEN).
    #[error("stub is {len} bytes, more than the {max} a systemd-stub can plausibly be")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A header or table runs past the end of the file.
    #[error("stub is truncated: {what} at offset {offset:#x} runs past its {len} bytes")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where it starts.
        offset: u64,
        /// The stub's length.
        len: usize,
    },
    /// A magic number is wrong.
    #[error("stub is not a PE image: {what} is {found:#x}, expected {expected:#x}")]
    BadMagic {
        /// Which magic.
        what: &'static str,
        /// What was found.
        found: u32,
        /// What a PE32+ image has.
        expected: u32,
    },
    /// A header field has a value the PE format or this assembler rules out.
    #[error("stub header field {field} is {value:#x}: {reason}")]
    BadField {
        /// The field's name as the PE specification spells it.
        field: &'static str,
        /// Its value.
        value: u64,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// A section's raw data lies outside the file.
    #[error("stub section {name} raw data {offset:#x}+{size:#x} lies outside its {len} bytes")]
    SectionOutOfFile {
        /// The section's name.
        name: String,
        /// `PointerToRawData`.
        offset: u32,
        /// `SizeOfRawData`.
        size: u32,
        /// The stub's length.
        len: usize,
    },
    /// The stub has no `.sbat` section; upstream refuses such stubs.
    #[error("stub has no .sbat section (upstream's UKI builder requires one)")]
    NoSbat,
}

/// A UKI cannot be assembled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UkiError {
    /// The stub is unusable.
    #[error("reading systemd-stub: {0}")]
    Stub(#[from] StubError),
    /// A section name is not 1 to 8 printable ASCII characters.
    #[error("invalid PE section name {0:?}: expected 1 to 8 printable ASCII characters")]
    InvalidSectionName(String),
    /// An appended section has no bytes: it would share its virtual address
    /// with the next one.
    #[error("section {name} is empty; an appended PE section needs at least one byte")]
    EmptySection {
        /// The section.
        name: String,
    },
    /// An in-memory section is larger than
    /// [`MAX_INLINE_SECTION_LEN`](super::MAX_INLINE_SECTION_LEN).
    #[error("section {name} is {len} bytes, more than the {max} kept in memory")]
    InlineSectionTooLarge {
        /// The section.
        name: String,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The image would need more section headers than allowed.
    #[error("UKI would have {count} sections, more than {max}")]
    TooManySections {
        /// How many it would have.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The grown header no longer fits below the stub's first section.
    #[error(
        "UKI headers need {size_of_headers:#x} bytes but the stub's first section starts at {first_section:#x}"
    )]
    HeadersOverlapSections {
        /// The new `SizeOfHeaders`.
        size_of_headers: u64,
        /// The lowest section `VirtualAddress` of the stub.
        first_section: u32,
    },
    /// A 32-bit PE field (size, address or file offset) would overflow.
    #[error("section {name}: {field} would be {value:#x}, past the 4 GiB a PE32+ field holds")]
    TooLarge {
        /// The section being placed.
        name: String,
        /// The field that overflows.
        field: &'static str,
        /// The value it would need.
        value: u64,
    },
    /// A profile cannot be written as upstream does.
    #[error("UKI profile {id:?}: {reason}")]
    InvalidProfile {
        /// The profile ID.
        id: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Extra profiles were asked of a stub that cannot select them.
    #[error(
        "{loader} predates systemd {min}: it ignores .profile sections and would boot the last \
         of {extra} extra profile command lines",
        min = super::MIN_SYSTEMD_FOR_PROFILES
    )]
    ProfilesNeedNewerStub {
        /// The stub's loader info (`systemd-stub 252.39-1~deb12u2`).
        loader: String,
        /// How many extra profiles were asked for.
        extra: usize,
    },
    /// Reading a streamed section failed.
    #[error("reading section {name}: {source}")]
    Read {
        /// The section.
        name: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A streamed section held another number of bytes than announced.
    #[error("section {name}: expected {expected} bytes, the stream {actual}")]
    LengthMismatch {
        /// The section.
        name: String,
        /// The announced length.
        expected: u64,
        /// What the stream did (`ended after N bytes`, `has more`).
        actual: String,
    },
    /// Writing the output failed.
    #[error("writing UKI {what}: {source}")]
    Write {
        /// What was being written (`headers`, `section .initrd`, `checksum`).
        what: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Reading the kernel image failed.
    #[error("reading kernel image: {0}")]
    Kernel(#[source] io::Error),
    /// Copying the kernel output failed.
    #[error("copying kernel to output: {0}")]
    KernelCopy(#[source] io::Error),
}
