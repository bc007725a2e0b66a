//! The kernel command line a profile boots with.
//!
//! One function so that `cmdline-*` downloads, iPXE scripts and the UKIs,
//! ISOs and installers the builders make all agree on the same line.

use crate::cmdline::{self, CmdlineSpec};
use crate::image_path::OutputKind;

use super::model::BuildProfile;

impl BuildProfile {
    /// The kernel command line of this output: platform and default args,
    /// `talos.halt_if_installed=1` for ISOs (from 1.8), SecureBoot args, the
    /// schematic's META and extra args (as distributed to this kind), and
    /// `overlay_kernel_args`, the args from the overlay image's profile
    /// (known only once the overlay image is pulled; empty otherwise).
    pub fn kernel_cmdline(&self, overlay_kernel_args: &[String]) -> String {
        let spec = CmdlineSpec {
            platform: self.output.platform,
            arch: self.output.arch,
            version: &self.version,
            secureboot: self.output.secureboot,
            iso: self.output.kind == OutputKind::Iso,
            overlay_kernel_args,
            meta: &self.meta,
            extra_kernel_args: &self.extra_kernel_args,
        };
        cmdline::build(&spec).to_string()
    }
}
