//! Random bytes from the runtime's CSPRNG (`crypto.getRandomValues`
//! through getrandom's `wasm_js` backend).

use factory_core::frontend::PlatformError;

/// Sixteen random bytes.
pub(crate) fn bytes16() -> Result<[u8; 16], PlatformError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| PlatformError::Internal(format!("no random bytes: {e}")))?;
    Ok(bytes)
}
