//! Where an installer is published, as its signature names it.
//!
//! The cosign signature of an installer index names the repository with the
//! registry host pullers use, which is the host (and port) of the factory's
//! public URL: `https://factory.example.com/` serving `installer/<id>` gives
//! `factory.example.com/installer/<id>`. Every builder (the standalone
//! binary, the Lambda) must derive it the same way, or signatures made by
//! one would not match pulls through the other.

/// The host (and port) of `external_url`: `http://127.0.0.1:8080/` →
/// `127.0.0.1:8080`.
pub fn registry_host(external_url: &str) -> &str {
    let rest = external_url
        .split_once("://")
        .map_or(external_url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// The docker reference an installer in `repository` (`<image>/<schematic
/// id>`) is signed for, behind the factory at `external_url`.
pub fn installer_reference(external_url: &str, repository: &str) -> String {
    format!("{}/{repository}", registry_host(external_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_references() {
        assert_eq!(registry_host("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(
            registry_host("https://factory.example.com"),
            "factory.example.com"
        );
        assert_eq!(
            installer_reference("https://factory.example.com/", "installer/abc"),
            "factory.example.com/installer/abc"
        );
    }
}
