//! Talos's UKI: which sections, in which order, on top of systemd-stub.
//!
//! The order is upstream's `Builder.Build` (Talos ≥ 1.10 library, used by
//! Image Factory for every version): the stub's own sections (its `.sbat`
//! stays there: upstream measures it for PCR 11 but never appends it again),
//! then `.osrel`, `.cmdline`, `.uname` when the kernel release is known,
//! `.splash` when one is given, `.linux`, `.initrd`, and from 1.10 the
//! profiles: `.profile` `ID=main`, then each extra profile's `.profile` and,
//! when it has one, its own `.cmdline`. Signed builds (later) add `.pcrpkey`
//! before `.linux` and a `.pcrsig` after each profile through
//! [`append_sections`](super::append_sections).

use std::io::Write;

use super::append::append_sections;
use super::error::UkiError;
use super::layout::UkiLayout;
use super::profile::{UkiProfile, with_main};
use super::section::{NewSection, SectionName, SectionStream};
use super::stub::Stub;

/// Everything that goes into a UKI besides the stub.
#[derive(Debug)]
pub struct UkiSections<'a> {
    /// `.osrel` text, normally [`os_release`](super::os_release).
    pub osrel: String,
    /// `.cmdline`: the kernel command line (no newline, no NUL).
    pub cmdline: String,
    /// `.uname`: the kernel release, when known (see
    /// [`discover_kernel_version`](super::discover_kernel_version)).
    pub uname: Option<String>,
    /// `.splash`: a BMP image. Upstream embeds Sidero's logo, which is not
    /// ours to ship; `None` leaves the section out.
    pub splash: Option<Vec<u8>>,
    /// `.linux`: the kernel image, streamed.
    pub linux: SectionStream<'a>,
    /// `.initrd`: the initramfs, streamed.
    pub initrd: SectionStream<'a>,
    /// `None` before Talos 1.10 (no `.profile` sections); otherwise the
    /// extra profiles to write after `ID=main` (see
    /// [`profiles_for_version`](super::profiles_for_version)).
    pub profiles: Option<Vec<UkiProfile>>,
    /// The COFF `TimeDateStamp` (upstream: `SOURCE_DATE_EPOCH`, else now).
    pub timestamp: u32,
}

/// Builds the UKI from `stub` (systemd's `linux{x64,aa64}.efi.stub`, held in
/// memory: at most [`MAX_STUB_LEN`](super::MAX_STUB_LEN)) and `sections`,
/// writing it to `out` in one pass; the kernel and initrd are streamed in
/// bounded chunks. The `CheckSum` field is left zero, as upstream leaves it;
/// see [`UkiLayout::write_checksum`] to fill it in.
///
/// Fails if the stub is not a PE32+ image with a `.sbat` section (upstream
/// refuses stubs without one too), if a profile is invalid or named `main`,
/// or if a stream yields another length than announced.
pub fn assemble<W: Write>(
    stub: &[u8],
    sections: UkiSections<'_>,
    out: W,
) -> Result<UkiLayout, UkiError> {
    // Upstream reads `.sbat` from the stub before anything else; a stub
    // without one fails the build there.
    Stub::parse(stub)?.sbat()?;
    let timestamp = sections.timestamp;
    append_sections(stub, plan(sections)?, timestamp, out)
}

/// The appended sections in upstream's order.
fn plan(sections: UkiSections<'_>) -> Result<Vec<NewSection<'_>>, UkiError> {
    let UkiSections {
        osrel,
        cmdline,
        uname,
        splash,
        linux,
        initrd,
        profiles,
        timestamp: _,
    } = sections;
    let mut out = vec![
        NewSection::bytes(SectionName::OSREL, osrel)?,
        NewSection::bytes(SectionName::CMDLINE, cmdline)?,
    ];
    if let Some(uname) = uname {
        out.push(NewSection::bytes(SectionName::UNAME, uname)?);
    }
    if let Some(splash) = splash {
        out.push(NewSection::bytes(SectionName::SPLASH, splash)?);
    }
    out.push(NewSection::stream(SectionName::LINUX, linux));
    out.push(NewSection::stream(SectionName::INITRD, initrd));
    if let Some(extra) = profiles {
        for profile in with_main(extra)? {
            out.push(NewSection::bytes(
                SectionName::PROFILE,
                profile.section_text(),
            )?);
            if let Some(cmdline) = profile.cmdline.filter(|c| !c.is_empty()) {
                out.push(NewSection::bytes(SectionName::CMDLINE, cmdline)?);
            }
        }
    }
    Ok(out)
}

/// The stub's `.sbat` section as upstream measures it (trimmed to its
/// `VirtualSize`), for the PCR 11 signature of SecureBoot builds.
pub fn stub_sbat(stub: &[u8]) -> Result<Vec<u8>, UkiError> {
    Ok(Stub::parse(stub)?.sbat()?.to_vec())
}
