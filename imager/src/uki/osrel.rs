//! The `.osrel` section: os-release text for a Talos version.
//!
//! systemd-boot shows `PRETTY_NAME` in its menu and sorts entries by
//! `VERSION_ID`, so the text must be Talos's own, byte for byte: upstream
//! fills `constants.OSReleaseTemplate` with the profile's name (`Talos`), an
//! ID derived from it (lowercased, spaces to `_`) and the version tag with its
//! `v` (`v1.10.3`, as Image Factory sets `prof.Version`).

use factory_core::version::TalosVersion;

/// The product name Image Factory puts in profiles (`prof.Name`).
pub const TALOS_NAME: &str = "Talos";

/// The os-release text Talos's imager writes into `.osrel` for `version`,
/// with `name` as the OS name (normally [`TALOS_NAME`]). Every line ends with
/// a newline, the last one included.
pub fn os_release(name: &str, version: &TalosVersion) -> String {
    let id = name.replace(' ', "_").to_lowercase();
    let version = version.tag();
    format!(
        "NAME=\"{name}\"\n\
         ID={id}\n\
         VERSION_ID={version}\n\
         PRETTY_NAME=\"{name} ({version})\"\n\
         HOME_URL=\"https://www.talos.dev/\"\n\
         BUG_REPORT_URL=\"https://github.com/siderolabs/talos/issues\"\n\
         VENDOR_NAME=\"Sidero Labs\"\n\
         VENDOR_URL=\"https://www.siderolabs.com/\"\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_upstream_for_a_prerelease() {
        // The os-release upstream generated for its own v1.14.0-beta.1.
        let expected = "NAME=\"Talos\"\nID=talos\nVERSION_ID=v1.14.0-beta.1\n\
PRETTY_NAME=\"Talos (v1.14.0-beta.1)\"\nHOME_URL=\"https://www.talos.dev/\"\n\
BUG_REPORT_URL=\"https://github.com/siderolabs/talos/issues\"\nVENDOR_NAME=\"Sidero Labs\"\n\
VENDOR_URL=\"https://www.siderolabs.com/\"\n";
        let version: TalosVersion = "v1.14.0-beta.1".parse().unwrap();
        assert_eq!(os_release(TALOS_NAME, &version), expected);
    }

    #[test]
    fn id_is_derived_from_the_name() {
        let version: TalosVersion = "1.10.3".parse().unwrap();
        let text = os_release("Talos Enterprise", &version);
        assert!(
            text.starts_with(
                "NAME=\"Talos Enterprise\"\nID=talos_enterprise\nVERSION_ID=v1.10.3\n"
            )
        );
        assert!(text.contains("PRETTY_NAME=\"Talos Enterprise (v1.10.3)\"\n"));
    }
}
