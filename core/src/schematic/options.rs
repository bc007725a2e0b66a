//! Placeholder: the schematic helper replaces this with the real overlay options tree.

/// Free-form overlay options (a YAML mapping).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OverlayOptions;
