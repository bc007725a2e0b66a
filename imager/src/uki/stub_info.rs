//! Which systemd built the stub, read from its `.sdmagic` section.
//!
//! systemd-stub embeds `#### LoaderInfo: systemd-stub <version> ####` in
//! `.sdmagic`. The version matters for profiles: stubs before systemd 257
//! ignore `.profile` sections and, finding several `.cmdline` sections,
//! boot with the *last* one (checked by booting Debian's 252 stub in QEMU),
//! which for an image's UKI is the `reset-maintenance` profile's wipe
//! command line. Upstream does not check this (Talos ≥ 1.10 ships newer
//! stubs); builders that take stubs from elsewhere can, with these helpers.

use super::error::UkiError;
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
