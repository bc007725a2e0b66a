//! Walking the headers of a newc (`070701`) cpio archive, for tests that
//! check where one archive ends and the next segment of an initramfs begins.

/// The newc magic.
pub const NEWC_MAGIC: &[u8; 6] = b"070701";

/// Entry names of the newc archive at the start of `bytes` (trailer
/// excluded), and its length including the trailer's padding to 512 bytes.
/// Panics with the offset when a header is not newc.
#[allow(clippy::indexing_slicing)]
pub fn split_newc(bytes: &[u8]) -> (Vec<String>, usize) {
    let mut off = 0usize;
    let mut names = Vec::new();
    loop {
        assert_eq!(
            bytes.get(off..off + 6),
            Some(&NEWC_MAGIC[..]),
            "newc magic at offset {off}"
        );
        let field = |i: usize| {
            usize::from_str_radix(
                std::str::from_utf8(&bytes[off + 6 + i * 8..off + 14 + i * 8]).unwrap(),
                16,
            )
            .unwrap()
        };
        let size = field(6);
        let namesize = field(11);
        let name = std::str::from_utf8(&bytes[off + 110..off + 110 + namesize - 1])
            .unwrap()
            .to_owned();
        off = (off + 110 + namesize).div_ceil(4) * 4;
        off = (off + size).div_ceil(4) * 4;
        if name == "TRAILER!!!" {
            return (names, off.div_ceil(512) * 512);
        }
        names.push(name);
    }
}
