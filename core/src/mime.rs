//! Response metadata for downloads: `Content-Type` from the asset path,
//! `Content-Disposition` from the file name, the `?filename=` override made
//! safe, and the body of `.sha256`/`.sha512` checksum files.
//!
//! Content types follow upstream's `internal/mime` table, which falls back to
//! Go's `mime.TypeByExtension`. Upstream runs in a scratch container with no
//! system MIME database, so that fallback is Go's small built-in table, which
//! has none of the archive or disk extensions: `.tar`, `.zst`, `.raw`, `.vhd`,
//! `.ova` and extension-less names (`kernel-amd64`) are all
//! `application/octet-stream`. The type is computed from the *path*, never
//! from `?filename=`, so renaming a download cannot change how it is served.
//!
//! Upstream copies `?filename=` into the header verbatim; we first pass it
//! through [`sanitize_filename`] (the caller falls back to the path when
//! nothing usable is left), so the header can never be broken out of.

/// `Content-Type` of checksum files and other text answers.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

const OCTET_STREAM: &str = "application/octet-stream";

/// Longest `?filename=` we keep, in bytes (a common file system name limit).
const MAX_FILENAME_BYTES: usize = 255;

/// Go's built-in extension table (lower-case keys), used by upstream when its
/// own table has no entry. Newer Go releases add entries, none of which is an
/// extension the factory serves.
const GO_BUILTIN_TYPES: [(&str, &str); 17] = [
    (".avif", "image/avif"),
    (".css", "text/css; charset=utf-8"),
    (".gif", "image/gif"),
    (".htm", "text/html; charset=utf-8"),
    (".html", "text/html; charset=utf-8"),
    (".ico", "image/x-icon"),
    (".jpeg", "image/jpeg"),
    (".jpg", "image/jpeg"),
    (".js", "text/javascript; charset=utf-8"),
    (".json", "application/json"),
    (".mjs", "text/javascript; charset=utf-8"),
    (".pdf", "application/pdf"),
    (".png", "image/png"),
    (".svg", "image/svg+xml"),
    (".wasm", "application/wasm"),
    (".webp", "image/webp"),
    (".xml", "text/xml; charset=utf-8"),
];

/// The `Content-Type` of an asset, from its path's extension (upstream
/// `mime.ContentType`).
pub fn content_type(path: &str) -> &'static str {
    let ext = extension(path);
    match ext {
        ".efi" => "application/efi",
        ".iso" => "application/x-iso9660-image",
        ".xz" => "application/x-xz",
        ".gz" => "application/gzip",
        ".qcow2" => "application/x-qemu-disk",
        "" => OCTET_STREAM,
        // Go looks the extension up case-sensitively, then lower-cased; the
        // built-in table is all lower case, so one case-insensitive pass is equal.
        _ => GO_BUILTIN_TYPES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(ext))
            .map_or(OCTET_STREAM, |(_, ty)| *ty),
    }
}

/// Go's `filepath.Ext`: the suffix from the last `.` of the last path
/// element, or empty.
fn extension(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rfind('.')
        .and_then(|dot| name.get(dot..))
        .unwrap_or("")
}

/// `attachment; filename="<filename>"`, formatted as upstream does. Names from
/// the path grammar or [`sanitize_filename`] are copied as they are; should a
/// `"` or `\` reach this function anyway it is backslash-escaped (RFC 6266
/// quoted-string) and control characters are dropped, so the result is always
/// a valid header value.
pub fn content_disposition(filename: &str) -> String {
    let mut quoted = String::with_capacity(filename.len());
    for c in filename.chars().filter(|c| !c.is_control()) {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    format!("attachment; filename=\"{quoted}\"")
}

/// Makes a `?filename=` value safe for `Content-Disposition`: keeps its last
/// path element (after any `/` or `\`), drops every character that is not
/// printable ASCII or is one of `"`, `'`, `;`, trims surrounding spaces, and
/// caps it at 255 bytes. Returns `None` when nothing usable is left (empty,
/// `.` or `..`), in which case the caller uses the asset path instead.
pub fn sanitize_filename(requested: &str) -> Option<String> {
    let base = requested.rsplit(['/', '\\']).next().unwrap_or(requested);
    let kept: String = base
        .chars()
        .filter(|c| (' '..='~').contains(c) && !matches!(c, '"' | '\'' | ';'))
        .take(MAX_FILENAME_BYTES)
        .collect();
    let trimmed = kept.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        return None;
    }
    Some(trimmed.to_owned())
}

/// The body of a checksum file, in `sha256sum` format: `<hex>  <filename>\n`
/// (served as [`TEXT_PLAIN`]).
pub fn checksum_line(hex: &str, filename: &str) -> String {
    format!("{hex}  {filename}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_path() {
        for (path, want) in [
            ("metal-amd64-uki.efi", "application/efi"),
            ("metal-amd64.iso", "application/x-iso9660-image"),
            ("metal-amd64-secureboot.iso", "application/x-iso9660-image"),
            ("initramfs-amd64.xz", "application/x-xz"),
            ("metal-amd64.raw.xz", "application/x-xz"),
            ("digital-ocean-amd64.raw.gz", "application/gzip"),
            ("gcp-amd64.raw.tar.gz", "application/gzip"),
            ("metal-amd64.qcow2", "application/x-qemu-disk"),
            ("metal-amd64.raw.zst", OCTET_STREAM),
            ("metal-amd64.raw", OCTET_STREAM),
            ("azure-amd64.vhd", OCTET_STREAM),
            ("vmware-amd64.ova", OCTET_STREAM),
            ("installer-amd64.tar", OCTET_STREAM),
            ("kernel-amd64", OCTET_STREAM),
            ("cmdline-metal-amd64", OCTET_STREAM),
            ("talosctl-windows-amd64.exe", OCTET_STREAM),
            ("", OCTET_STREAM),
            ("file.", OCTET_STREAM),
            ("dir.iso/kernel", OCTET_STREAM),
            ("x.json", "application/json"),
            ("X.JSON", "application/json"),
            // upstream's own table is case-sensitive
            ("METAL.ISO", OCTET_STREAM),
        ] {
            assert_eq!(content_type(path), want, "{path:?}");
        }
    }

    #[test]
    fn dispositions() {
        assert_eq!(
            content_disposition("custom-filename.iso"),
            r#"attachment; filename="custom-filename.iso""#
        );
        assert_eq!(
            content_disposition("metal-amd64.raw.zst"),
            r#"attachment; filename="metal-amd64.raw.zst""#
        );
        assert_eq!(
            content_disposition("a\"b\\c\r\nd"),
            r#"attachment; filename="a\"b\\cd""#
        );
    }

    #[test]
    fn sanitised_filenames() {
        let long = "a".repeat(300);
        let cases: [(&str, Option<&str>); 14] = [
            ("custom-filename.iso", Some("custom-filename.iso")),
            ("../../etc/passwd", Some("passwd")),
            ("C:\\Users\\me\\talos.iso", Some("talos.iso")),
            ("my \"talos\"; rm.iso", Some("my talos rm.iso")),
            ("it's.iso", Some("its.iso")),
            ("ta\r\nlos\t.iso", Some("talos.iso")),
            ("tālos.iso", Some("tlos.iso")),
            ("  spaced.iso  ", Some("spaced.iso")),
            ("", None),
            ("dir/", None),
            ("..", None),
            (".", None),
            ("\"\";;", None),
            ("日本", None),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize_filename(input).as_deref(), want, "{input:?}");
        }
        assert_eq!(sanitize_filename(&long).map(|s| s.len()), Some(255));
    }

    #[test]
    fn checksum_lines() {
        assert_eq!(
            checksum_line("abc123", "metal-amd64.iso"),
            "abc123  metal-amd64.iso\n"
        );
        assert_eq!(TEXT_PLAIN, "text/plain; charset=utf-8");
    }
}
