//! Unified kernel images (UKI), and the plain `kernel` and `cmdline` outputs.
//!
//! A UKI is systemd-stub (a small EFI program) with the kernel, initramfs,
//! command line and os-release appended as PE sections; the stub finds them
//! in its own loaded image and boots the kernel. Talos builds it with a pure
//! Go PE writer (`AssembleNative`); this module does the same in Rust:
//!
//! - [`assemble`] lays out Talos's sections in upstream's order (see
//!   [`UkiSections`]) and streams the result, returning the [`UkiLayout`];
//! - [`append_sections`] is the general PE section appender under it;
//! - [`os_release`], [`discover_kernel_version`], [`UkiProfile`] and
//!   [`profiles_for_version`] produce the small sections' contents;
//! - [`write_kernel`] and [`cmdline_text`] are the `kernel` and `cmdline`
//!   outputs;
//! - [`stub_sbat`] and [`stub_loader_info`] read the stub's `.sbat` (for
//!   PCR measurement) and systemd version (profiles need ≥ 257);
//!   [`require_profile_support`] refuses extra profiles on an older stub.
//!
//! Limits: a stub of at most [`MAX_STUB_LEN`] bytes, at most
//! [`MAX_SECTIONS`] sections, in-memory sections of at most
//! [`MAX_INLINE_SECTION_LEN`] bytes, and everything addressable by the
//! 32-bit PE fields (a UKI under 4 GiB); past any of them assembly fails
//! with an error naming the limit, before anything is written. Memory use is
//! the stub, the small sections and one 64 KiB copy buffer, whatever the
//! initrd's size. SecureBoot (PCR signatures, Authenticode) is not here yet.

mod append;
mod assemble;
mod checksum;
mod error;
mod kernel_version;
mod layout;
mod le;
mod osrel;
mod outputs;
mod profile;
mod section;
mod stub;
mod stub_info;
#[cfg(test)]
mod tests;

pub use append::append_sections;
pub use assemble::{UkiSections, assemble, stub_sbat};
pub use error::{StubError, UkiError};
pub use kernel_version::discover_kernel_version;
pub use layout::{SectionLayout, UkiLayout};
pub use osrel::{TALOS_NAME, os_release};
pub use outputs::{cmdline_text, write_kernel};
pub use profile::{
    KERNEL_PARAM_WIPE, MAIN_PROFILE_ID, MAX_PROFILE_ID_LEN, MAX_PROFILE_TITLE_LEN, UkiProfile,
    profiles_for_version,
};
pub use section::{NewSection, SectionData, SectionName, SectionStream};
pub use stub_info::{
    MIN_SYSTEMD_FOR_PROFILES, ProfileSupport, profile_support, require_profile_support,
    stub_loader_info, systemd_major,
};

/// Largest stub accepted (systemd's stubs are 80–200 KiB).
pub const MAX_STUB_LEN: usize = 16 * 1024 * 1024;
/// Most sections in a UKI, the stub's included: the PE specification's
/// loader limit (Windows loads at most 96); a Talos UKI has about 15.
pub const MAX_SECTIONS: usize = 96;
/// Largest section held in memory (os-release, cmdline, uname, profiles,
/// splash); the kernel and initrd are streamed instead.
pub const MAX_INLINE_SECTION_LEN: usize = 16 * 1024 * 1024;
