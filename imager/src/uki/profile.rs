//! UKI profiles (`.profile` sections, Talos ≥ 1.10, systemd-stub ≥ 257).
//!
//! A multi-profile UKI carries the base sections, then for each profile a
//! `.profile` section (`ID=...`, optionally `\nTITLE=...`, no trailing
//! newline) followed by the sections that profile overrides; Talos only
//! overrides `.cmdline`. Upstream always writes `ID=main` first, with nothing
//! overridden, and reserves that ID; ISOs add `reset`, disk images and
//! installers add `reset-maintenance`, the plain `uki` output adds nothing.

use factory_core::quirks::Quirks;
use factory_core::version::TalosVersion;

use super::error::UkiError;

/// The ID of the profile upstream always writes first.
pub const MAIN_PROFILE_ID: &str = "main";
/// The kernel parameter Talos's reset profiles add.
pub const KERNEL_PARAM_WIPE: &str = "talos.experimental.wipe";
/// Longest profile ID accepted.
pub const MAX_PROFILE_ID_LEN: usize = 64;
/// Longest profile title accepted.
pub const MAX_PROFILE_TITLE_LEN: usize = 256;

/// One extra UKI profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UkiProfile {
    /// The profile ID (letters, digits, `-`, `_`, `.`).
    pub id: String,
    /// The menu title, if any.
    pub title: Option<String>,
    /// The profile's own kernel command line; `None` keeps the base one.
    pub cmdline: Option<String>,
}

impl UkiProfile {
    /// The ISO's `reset` profile: the base cmdline plus
    /// `talos.experimental.wipe=system`.
    pub fn reset(cmdline: &str) -> Self {
        UkiProfile {
            id: "reset".to_owned(),
            title: Some("Reset system disk".to_owned()),
            cmdline: Some(format!("{cmdline} {KERNEL_PARAM_WIPE}=system")),
        }
    }

    /// The disk image's and installer's `reset-maintenance` profile: the base
    /// cmdline plus `talos.experimental.wipe=system:EPHEMERAL,STATE`.
    pub fn reset_maintenance(cmdline: &str) -> Self {
        UkiProfile {
            id: "reset-maintenance".to_owned(),
            title: Some("Reset to maintenance mode".to_owned()),
            cmdline: Some(format!(
                "{cmdline} {KERNEL_PARAM_WIPE}=system:EPHEMERAL,STATE"
            )),
        }
    }

    /// The upstream `main` profile.
    pub(crate) fn main() -> Self {
        UkiProfile {
            id: MAIN_PROFILE_ID.to_owned(),
            title: None,
            cmdline: None,
        }
    }

    /// The `.profile` section text: `ID=<id>`, then `\nTITLE=<title>` when
    /// there is a non-empty title.
    pub fn section_text(&self) -> String {
        match self.title.as_deref() {
            Some(title) if !title.is_empty() => format!("ID={}\nTITLE={title}", self.id),
            _ => format!("ID={}", self.id),
        }
    }

    /// Checks the profile can be written as a `.profile` section.
    pub(crate) fn validate(&self) -> Result<(), UkiError> {
        let invalid = |reason| UkiError::InvalidProfile {
            id: self.id.chars().take(MAX_PROFILE_ID_LEN).collect(),
            reason,
        };
        if self.id.is_empty() || self.id.len() > MAX_PROFILE_ID_LEN {
            return Err(invalid("the ID must be 1 to 64 characters"));
        }
        if !self
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(invalid(
                "the ID may hold only letters, digits, '-', '_' and '.'",
            ));
        }
        if let Some(title) = &self.title
            && (title.len() > MAX_PROFILE_TITLE_LEN || title.contains(['\n', '\r', '\0']))
        {
            return Err(invalid("the title must be one line of at most 256 bytes"));
        }
        Ok(())
    }
}

/// The profiles to write for `version`: `None` before 1.10 (no `.profile`
/// sections at all, and `extra` is ignored as upstream ignores it), otherwise
/// `Some(extra)`; the `main` profile is added by the assembler.
pub fn profiles_for_version(
    version: &TalosVersion,
    extra: Vec<UkiProfile>,
) -> Option<Vec<UkiProfile>> {
    Quirks::new(version)
        .supports_uki_profiles()
        .then_some(extra)
}

/// `main` followed by `extra`, each checked; `main` among `extra` is an
/// error, as upstream reserves it.
pub(crate) fn with_main(extra: Vec<UkiProfile>) -> Result<Vec<UkiProfile>, UkiError> {
    let mut all = Vec::with_capacity(extra.len() + 1);
    all.push(UkiProfile::main());
    for profile in extra {
        if profile.id == MAIN_PROFILE_ID {
            return Err(UkiError::InvalidProfile {
                id: profile.id,
                reason: "the ID 'main' is reserved",
            });
        }
        profile.validate()?;
        all.push(profile);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_text_as_upstream() {
        assert_eq!(UkiProfile::main().section_text(), "ID=main");
        let reset = UkiProfile::reset("a=1 b");
        assert_eq!(reset.section_text(), "ID=reset\nTITLE=Reset system disk");
        assert_eq!(
            reset.cmdline.as_deref(),
            Some("a=1 b talos.experimental.wipe=system")
        );
        let maintenance = UkiProfile::reset_maintenance("a=1");
        assert_eq!(
            maintenance.section_text(),
            "ID=reset-maintenance\nTITLE=Reset to maintenance mode"
        );
        assert_eq!(
            maintenance.cmdline.as_deref(),
            Some("a=1 talos.experimental.wipe=system:EPHEMERAL,STATE")
        );
    }

    #[test]
    fn main_is_reserved_and_first() {
        let err = with_main(vec![UkiProfile::main()]).unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
        let all = with_main(vec![UkiProfile::reset("x")]).unwrap();
        assert_eq!(all[0].id, "main");
        assert_eq!(all[1].id, "reset");
    }

    #[test]
    fn rejects_ids_and_titles_that_break_the_format() {
        for id in ["", "a b", "a\nTITLE=x", &"x".repeat(65)] {
            let p = UkiProfile {
                id: id.to_owned(),
                title: None,
                cmdline: None,
            };
            assert!(with_main(vec![p]).is_err(), "{id:?}");
        }
        let p = UkiProfile {
            id: "x".to_owned(),
            title: Some("two\nlines".to_owned()),
            cmdline: None,
        };
        assert!(with_main(vec![p]).is_err());
    }

    #[test]
    fn profiles_start_at_1_10() {
        let extra = vec![UkiProfile::reset("x")];
        let v19: TalosVersion = "v1.9.5".parse().unwrap();
        let v110: TalosVersion = "v1.10.0-alpha.1".parse().unwrap();
        assert_eq!(profiles_for_version(&v19, extra.clone()), None);
        assert_eq!(profiles_for_version(&v110, extra.clone()), Some(extra));
    }
}
