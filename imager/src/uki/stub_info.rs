//! Which systemd built the stub, read from its `.sdmagic` section.
//!
//! systemd-stub embeds `#### LoaderInfo: systemd-stub <version> ####` in
//! `.sdmagic`. The version matters for profiles: stubs before systemd 257
//! ignore `.profile` sections and, finding several `.cmdline` sections,
//! boot with the *last* one (checked by booting Debian's 252 stub in QEMU),
//! which for an image's UKI is the `reset-maintenance` profile's wipe
//! command line. Upstream does not check this (Talos ≥ 1.10 ships newer
//! stubs); [`profile_support`] and [`require_profile_support`] let a builder
//! that may meet other stubs (a mirror, the synthetic test release) decide
//! and refuse instead of writing a UKI that would wipe the machine.

use super::error::UkiError;
use super::profile::UkiProfile;
use super::stub::Stub;

/// The first systemd release whose stub understands `.profile` sections.
pub const MIN_SYSTEMD_FOR_PROFILES: u32 = 257;

const PREFIX: &str = "#### LoaderInfo: ";
const SUFFIX: &str = " ####";

/// The stub's loader info (`systemd-stub 252.39-1~deb12u2`), or `None` when
/// it has no `.sdmagic` section in the usual form.
pub fn stub_loader_info(stub: &[u8]) -> Result<Option<String>, UkiError> {
    let stub = Stub::parse(stub)?;
    let Some(section) = stub.section(".sdmagic") else {
        return Ok(None);
    };
    let len = (section.header.virtual_size as usize).min(section.data.len());
    let raw = section.data.get(..len).unwrap_or_default();
    let text = raw.split(|&b| b == 0).next().unwrap_or_default();
    let Ok(text) = std::str::from_utf8(text) else {
        return Ok(None);
    };
    Ok(text
        .strip_prefix(PREFIX)
        .and_then(|t| t.strip_suffix(SUFFIX))
        .map(str::to_owned))
}

/// The systemd major version in a loader info string
/// (`systemd-stub 252.39-1~deb12u2` → 252).
pub fn systemd_major(loader_info: &str) -> Option<u32> {
    let version = loader_info.strip_prefix("systemd-stub ")?;
    let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// What a stub does with `.profile` sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSupport {
    /// systemd-stub ≥ [`MIN_SYSTEMD_FOR_PROFILES`]: profiles work.
    Supported,
    /// An older or unidentified stub: it ignores `.profile` and boots the
    /// last `.cmdline`. Carries the loader info, when there is one.
    Unsupported(Option<String>),
}

/// Whether `stub` understands `.profile` sections. A stub whose version
/// cannot be read counts as unsupported: only a proven new stub is trusted
/// with extra command lines.
pub fn profile_support(stub: &[u8]) -> Result<ProfileSupport, UkiError> {
    let info = stub_loader_info(stub)?;
    let major = info.as_deref().and_then(systemd_major);
    Ok(match major {
        Some(major) if major >= MIN_SYSTEMD_FOR_PROFILES => ProfileSupport::Supported,
        _ => ProfileSupport::Unsupported(info),
    })
}

/// Refuses to put `extra` profiles (anything beyond the `main` profile the
/// assembler adds) on a stub older than systemd 257: such a stub would boot
/// the last profile's command line for every boot. `None` (no profiles, before
/// Talos 1.10) and `Some(empty)` (`main` only, one `.cmdline`) are safe on
/// any stub.
pub fn require_profile_support(stub: &[u8], extra: Option<&[UkiProfile]>) -> Result<(), UkiError> {
    let count = extra.map_or(0, <[UkiProfile]>::len);
    if count == 0 {
        return Ok(());
    }
    match profile_support(stub)? {
        ProfileSupport::Supported => Ok(()),
        ProfileSupport::Unsupported(loader) => Err(UkiError::ProfilesNeedNewerStub {
            loader: loader.unwrap_or_else(|| "an unidentified stub".to_owned()),
            extra: count,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions() {
        assert_eq!(systemd_major("systemd-stub 252.39-1~deb12u2"), Some(252));
        assert_eq!(systemd_major("systemd-stub 257"), Some(257));
        assert_eq!(systemd_major("systemd-boot 257"), None);
        assert_eq!(systemd_major("systemd-stub x"), None);
    }
}
