//! Assembly tests on a synthetic stub, where every header field is known.
//! (The real systemd-stub and real tools are in `imager/tests/uki_stub.rs`.)

use std::io::Cursor;

use super::stub::{SCN_CNT_CODE, SCN_CNT_INITIALIZED_DATA, SCN_MEM_READ, Stub, coff, opt};
use super::*;

const TEXT_FLAGS: u32 = 0x6000_0020;
const DATA_FLAGS: u32 = 0xc000_0040;

/// A section of the synthetic stub: name, VA, VirtualSize, raw bytes, flags.
struct Fake {
    name: &'static str,
    va: u32,
    vs: u32,
    raw: Vec<u8>,
    flags: u32,
}

/// A PE32+ image with a DOS program, the given sections, a COFF symbol table
/// after them and a certificate table entry, like real-world stubs have.
fn fake_stub(sections: &[Fake], section_alignment: u32) -> Vec<u8> {
    let pe = 0x80usize; // DOS header + a DOS program
    let opt_len = 240usize;
    let table = pe + 4 + 20 + opt_len;
    let headers = (table + 40 * sections.len()).next_multiple_of(0x200);
    let mut out = vec![0u8; headers];
    out[0..2].copy_from_slice(b"MZ");
    out[0x3c..0x40].copy_from_slice(&(pe as u32).to_le_bytes());
    out[0x40..0x48].copy_from_slice(b"DOSPROG!");
    out[pe..pe + 4].copy_from_slice(b"PE\0\0");
    let c = pe + 4;
    out[c..c + 2].copy_from_slice(&0x8664u16.to_le_bytes());
    out[c + 2..c + 4].copy_from_slice(&(sections.len() as u16).to_le_bytes());
    out[c + 4..c + 8].copy_from_slice(&12345u32.to_le_bytes());
    out[c + 12..c + 16].copy_from_slice(&3u32.to_le_bytes()); // NumberOfSymbols
    out[c + 16..c + 18].copy_from_slice(&(opt_len as u16).to_le_bytes());
    out[c + 18..c + 20].copy_from_slice(&0x22u16.to_le_bytes());
    let o = c + 20;
    out[o..o + 2].copy_from_slice(&0x20bu16.to_le_bytes());
    out[o + 2] = 2;
    out[o + 3] = 40;
    out[o + 16..o + 20].copy_from_slice(&0x1000u32.to_le_bytes()); // entry point
    out[o + 32..o + 36].copy_from_slice(&section_alignment.to_le_bytes());
    out[o + 36..o + 40].copy_from_slice(&0x200u32.to_le_bytes());
    out[o + 60..o + 64].copy_from_slice(&(headers as u32).to_le_bytes());
    out[o + 64..o + 68].copy_from_slice(&0xdeadu32.to_le_bytes()); // CheckSum
    out[o + 68..o + 70].copy_from_slice(&10u16.to_le_bytes()); // EFI application
    out[o + 108..o + 112].copy_from_slice(&16u32.to_le_bytes());
    out[o + 112 + 5 * 8..o + 112 + 5 * 8 + 4].copy_from_slice(&0x2000u32.to_le_bytes()); // .reloc dir
    out[o + 112 + 4 * 8..o + 112 + 4 * 8 + 8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let mut raw_at = headers;
    for (i, s) in sections.iter().enumerate() {
        let h = table + 40 * i;
        out[h..h + s.name.len()].copy_from_slice(s.name.as_bytes());
        out[h + 8..h + 12].copy_from_slice(&s.vs.to_le_bytes());
        out[h + 12..h + 16].copy_from_slice(&s.va.to_le_bytes());
        out[h + 16..h + 20].copy_from_slice(&(s.raw.len() as u32).to_le_bytes());
        let ptr = if s.raw.is_empty() { 0 } else { raw_at as u32 };
        out[h + 20..h + 24].copy_from_slice(&ptr.to_le_bytes());
        out[h + 36..h + 40].copy_from_slice(&s.flags.to_le_bytes());
        raw_at += s.raw.len();
    }
    for s in sections {
        out.extend_from_slice(&s.raw);
    }
    let symbols = out.len() as u32;
    out[c + 8..c + 12].copy_from_slice(&symbols.to_le_bytes());
    out.extend_from_slice(&[0x55; 3 * 18 + 4]); // symbols + empty string table
    out
}

fn standard_stub() -> Vec<u8> {
    fake_stub(
        &[
            Fake {
                name: ".text",
                va: 0x1000,
                vs: 0x123,
                raw: vec![0xcc; 0x200],
                flags: TEXT_FLAGS,
            },
            Fake {
                name: ".sbat",
                va: 0x2000,
                vs: 0x30,
                raw: [b"sbat,1,SBAT Version\n".as_slice(), &[0u8; 0x200 - 20]].concat(),
                flags: SCN_CNT_INITIALIZED_DATA | SCN_MEM_READ,
            },
            Fake {
                name: ".bss",
                va: 0x3000,
                vs: 0x1800,
                raw: Vec::new(),
                flags: 0xc000_0080,
            },
            Fake {
                name: ".data",
                va: 0x5000,
                vs: 0x1801,
                raw: vec![0xda; 0x400],
                flags: DATA_FLAGS,
            },
        ],
        0x1000,
    )
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

struct Built {
    bytes: Vec<u8>,
    layout: UkiLayout,
}

fn build(stub: &[u8], profiles: Option<Vec<UkiProfile>>, linux: &[u8], initrd: &[u8]) -> Built {
    let mut linux_reader = linux;
    let mut initrd_reader = initrd;
    let sections = UkiSections {
        osrel: "NAME=\"Talos\"\n".to_owned(),
        cmdline: "console=tty0".to_owned(),
        uname: Some("6.18.45-talos".to_owned()),
        splash: None,
        linux: SectionStream::new(&mut linux_reader, linux.len() as u64),
        initrd: SectionStream::new(&mut initrd_reader, initrd.len() as u64),
        profiles,
        timestamp: 1_609_459_200,
    };
    let mut bytes = Vec::new();
    let layout = assemble(stub, sections, &mut bytes).unwrap();
    Built { bytes, layout }
}

#[test]
fn lays_out_sections_after_the_stub() {
    let stub = standard_stub();
    let linux = vec![0x11u8; 0x2345];
    let initrd = vec![0x22u8; 0x10001];
    let built = build(
        &stub,
        Some(vec![UkiProfile::reset("console=tty0")]),
        &linux,
        &initrd,
    );
    let names: Vec<&str> = built
        .layout
        .sections
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            ".text", ".sbat", ".bss", ".data", ".osrel", ".cmdline", ".uname", ".linux", ".initrd",
            ".profile", ".profile", ".cmdline"
        ]
    );

    // Appended sections start at the first SectionAlignment boundary after
    // the stub's end (.data: 0x5000 + 0x1801) and follow each other.
    let appended: Vec<&SectionLayout> = built
        .layout
        .sections
        .iter()
        .filter(|s| !s.from_stub)
        .collect();
    assert_eq!(appended[0].virtual_address, 0x7000);
    for pair in appended.windows(2) {
        let end = pair[0].virtual_address + pair[0].virtual_size;
        assert_eq!(pair[1].virtual_address, end.next_multiple_of(0x1000));
    }
    let linux_section = built.layout.sections_named(".linux").next().unwrap();
    assert_eq!(linux_section.virtual_size, 0x2345);
    assert_eq!(linux_section.raw_size, 0x2400);

    // Raw data back to back from SizeOfHeaders; the .bss has none.
    assert_eq!(built.layout.size_of_headers, 0x400);
    let mut offset = 0x400;
    for s in &built.layout.sections {
        if s.raw_size == 0 {
            assert_eq!(s.file_offset, 0, "{}", s.name);
            continue;
        }
        assert_eq!(s.file_offset, offset, "{}", s.name);
        offset += s.raw_size;
    }
    assert_eq!(built.bytes.len() as u64, u64::from(offset));
    assert_eq!(built.layout.file_size, u64::from(offset));

    // Contents land where the table says.
    let at = |name: &str, n: usize| {
        let s = built.layout.sections_named(name).nth(n).unwrap();
        let start = s.file_offset as usize;
        &built.bytes[start..start + s.virtual_size as usize]
    };
    assert_eq!(at(".linux", 0), linux.as_slice());
    assert_eq!(at(".initrd", 0), initrd.as_slice());
    assert_eq!(at(".cmdline", 0), b"console=tty0");
    assert_eq!(at(".uname", 0), b"6.18.45-talos");
    assert_eq!(at(".profile", 0), b"ID=main");
    assert_eq!(at(".profile", 1), b"ID=reset\nTITLE=Reset system disk");
    assert_eq!(
        at(".cmdline", 1),
        b"console=tty0 talos.experimental.wipe=system"
    );
    assert_eq!(at(".text", 0), &stub[0x400..0x523]);
    let text = built.layout.sections_named(".text").next().unwrap();
    assert_eq!((text.file_offset, text.raw_size), (0x400, 0x200));
    assert!(built.bytes[0x400..0x600] == stub[0x400..0x600]);
}

#[test]
fn headers_are_patched_as_upstream_does() {
    let stub = standard_stub();
    let built = build(&stub, None, &[1, 2, 3], &[4; 5]);
    let out = &built.bytes;
    let parsed = Stub::parse(out).unwrap();

    // DOS header kept, e_lfanew = 0x80, DOS program replaced by zeros.
    assert_eq!(&out[..0x3c], &stub[..0x3c]);
    assert_eq!(u32_at(out, 0x3c), 0x80);
    assert!(out[0x40..0x80].iter().all(|&b| b == 0));
    assert_eq!(&out[0x80..0x84], b"PE\0\0");

    let c = 0x84;
    assert_eq!(
        u16::from_le_bytes([out[c + coff::NUMBER_OF_SECTIONS], out[c + 3]]),
        4 + 5
    );
    assert_eq!(u32_at(out, c + coff::TIME_DATE_STAMP), 1_609_459_200);
    assert_eq!(u32_at(out, c + coff::POINTER_TO_SYMBOL_TABLE), 0);
    assert_eq!(u32_at(out, c + coff::NUMBER_OF_SYMBOLS), 0);

    let o = c + 20;
    assert_eq!(out[o + opt::MAJOR_LINKER_VERSION], 0);
    assert_eq!(out[o + opt::MINOR_LINKER_VERSION], 0);
    assert_eq!(u32_at(out, o + opt::CHECKSUM), 0);
    assert_eq!(built.layout.checksum_offset, (o + opt::CHECKSUM) as u64);
    assert_eq!(u32_at(out, o + opt::SIZE_OF_HEADERS), 0x400);
    // Certificate table cleared, other directories kept.
    assert_eq!(&out[o + 112 + 32..o + 112 + 40], &[0; 8]);
    assert_eq!(u32_at(out, o + 112 + 40), 0x2000);
    // Entry point and subsystem untouched.
    assert_eq!(u32_at(out, o + 16), 0x1000);

    // SizeOfImage covers the last section rounded to SectionAlignment.
    let last = built.layout.sections.last().unwrap();
    let end = last.virtual_address + last.virtual_size;
    assert_eq!(
        u32_at(out, o + opt::SIZE_OF_IMAGE),
        end.next_multiple_of(0x1000)
    );
    assert_eq!(built.layout.size_of_image, end.next_multiple_of(0x1000));

    // Code is .text only; initialised data is every other section with raw data.
    let code: u32 = parsed
        .sections
        .iter()
        .filter(|s| s.header.characteristics & SCN_CNT_CODE != 0)
        .map(|s| s.header.size_of_raw_data)
        .sum();
    assert_eq!(code, 0x200);
    assert_eq!(u32_at(out, o + opt::SIZE_OF_CODE), 0x200);
    let data: u32 = built
        .layout
        .sections
        .iter()
        .filter(|s| s.name != ".text" && s.name != ".bss")
        .map(|s| s.raw_size)
        .sum();
    assert_eq!(u32_at(out, o + opt::SIZE_OF_INITIALIZED_DATA), data);

    // Appended sections are initialised read-only data.
    for s in parsed.sections.iter().skip(4) {
        assert_eq!(s.header.characteristics, 0x4000_0040);
    }
    // No .profile before 1.10.
    assert_eq!(built.layout.sections_named(".profile").count(), 0);
}

#[test]
fn checksum_is_reported_and_can_be_stored() {
    let stub = standard_stub();
    let built = build(&stub, Some(Vec::new()), &[9; 1001], &[8; 77]);
    let mut file = Cursor::new(built.bytes.clone());
    file.set_position(built.bytes.len() as u64);
    built.layout.write_checksum(&mut file).unwrap();
    assert_eq!(file.position(), built.bytes.len() as u64);
    let patched = file.into_inner();
    let offset = built.layout.checksum_offset as usize;
    assert_eq!(u32_at(&patched, offset), built.layout.checksum);
    assert_ne!(built.layout.checksum, 0);

    // Recompute from scratch with the field zeroed.
    let mut sum: u64 = 0;
    for (i, word) in patched.chunks(2).enumerate() {
        let at = i * 2;
        if at >= offset && at < offset + 4 {
            continue;
        }
        sum += u64::from(u16::from_le_bytes([word[0], *word.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    assert_eq!(sum as u32 + patched.len() as u32, built.layout.checksum);
}

#[test]
fn output_is_deterministic() {
    let stub = standard_stub();
    let a = build(
        &stub,
        Some(vec![UkiProfile::reset_maintenance("x")]),
        &[1; 999],
        &[2; 5000],
    );
    let b = build(
        &stub,
        Some(vec![UkiProfile::reset_maintenance("x")]),
        &[1; 999],
        &[2; 5000],
    );
    assert_eq!(a.bytes, b.bytes);
    assert_eq!(a.layout, b.layout);
}

fn try_build(
    stub: &[u8],
    linux: &mut dyn std::io::Read,
    linux_len: u64,
) -> Result<UkiLayout, UkiError> {
    let mut initrd: &[u8] = &[1, 2, 3];
    let sections = UkiSections {
        osrel: "x".to_owned(),
        cmdline: "y".to_owned(),
        uname: None,
        splash: None,
        linux: SectionStream::new(linux, linux_len),
        initrd: SectionStream::new(&mut initrd, 3),
        profiles: None,
        timestamp: 0,
    };
    assemble(stub, sections, std::io::sink())
}

#[test]
fn stream_length_must_match() {
    let stub = standard_stub();
    let err = try_build(&stub, &mut [0u8; 10].as_slice(), 11).unwrap_err();
    assert_eq!(
        err.to_string(),
        "section .linux: expected 11 bytes, the stream ended after 10 bytes"
    );
    let err = try_build(&stub, &mut [0u8; 10].as_slice(), 9).unwrap_err();
    assert_eq!(
        err.to_string(),
        "section .linux: expected 9 bytes, the stream has more"
    );
    let err = try_build(&stub, &mut [0u8; 0].as_slice(), 0).unwrap_err();
    assert!(err.to_string().contains("section .linux is empty"), "{err}");
}

#[test]
fn read_errors_name_the_section() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = try_build(&standard_stub(), &mut Failing, 5).unwrap_err();
    assert_eq!(err.to_string(), "reading section .linux: disk on fire");
}

#[test]
fn refuses_bad_stubs() {
    let stub = standard_stub();
    let check = |bytes: &[u8], expect: &str| {
        let err = try_build(bytes, &mut [0u8; 4].as_slice(), 4).unwrap_err();
        assert!(
            err.to_string().contains(expect),
            "{err} (expected {expect:?})"
        );
    };
    check(&stub[..0x30], "truncated: DOS header");
    check(b"ZM", "truncated");
    let mut bad = stub.clone();
    bad[0] = b'X';
    check(&bad, "DOS magic");
    let mut bad = stub.clone();
    bad[0x80] = b'X';
    check(&bad, "PE signature");
    let mut bad = stub.clone();
    bad[0x84 + 20] = 0x0b;
    bad[0x84 + 21] = 0x01;
    check(&bad, "PE32+");
    let mut bad = stub.clone();
    bad[0x84 + 20 + 36..0x84 + 20 + 40].copy_from_slice(&0x300u32.to_le_bytes());
    check(&bad, "FileAlignment");
    let mut bad = stub.clone();
    bad[0x84 + 20 + 32..0x84 + 20 + 36].copy_from_slice(&0x100u32.to_le_bytes());
    check(&bad, "SectionAlignment");
    // .data raw pointer past the end of the file.
    let mut bad = stub.clone();
    let data_header = 0x84 + 20 + 240 + 3 * 40;
    bad[data_header + 20..data_header + 24].copy_from_slice(&0x10_0000u32.to_le_bytes());
    check(&bad, "stub section .data raw data");
    // Renamed .sbat.
    let mut bad = stub.clone();
    let sbat_header = 0x84 + 20 + 240 + 40;
    bad[sbat_header + 1] = b'X';
    check(&bad, "no .sbat section");
}

#[test]
fn refuses_headers_that_would_overlap_the_first_section() {
    // A stub whose first section sits right after its headers, at 0x200.
    let stub = fake_stub(
        &[
            Fake {
                name: ".sbat",
                va: 0x200,
                vs: 0x10,
                raw: vec![b's'; 0x200],
                flags: SCN_CNT_INITIALIZED_DATA | SCN_MEM_READ,
            },
            Fake {
                name: ".text",
                va: 0x400,
                vs: 0x10,
                raw: vec![0xcc; 0x200],
                flags: TEXT_FLAGS,
            },
        ],
        0x200,
    );
    let err = try_build(&stub, &mut [0u8; 4].as_slice(), 4).unwrap_err();
    assert!(
        matches!(err, UkiError::HeadersOverlapSections { .. }),
        "{err}"
    );
}

#[test]
fn refuses_too_many_sections() {
    let stub = standard_stub();
    let profiles: Vec<UkiProfile> = (0..50)
        .map(|i| UkiProfile {
            id: format!("p{i}"),
            title: None,
            cmdline: Some("x".to_owned()),
        })
        .collect();
    let mut linux: &[u8] = &[1];
    let mut initrd: &[u8] = &[1];
    let sections = UkiSections {
        osrel: "x".to_owned(),
        cmdline: "y".to_owned(),
        uname: None,
        splash: None,
        linux: SectionStream::new(&mut linux, 1),
        initrd: SectionStream::new(&mut initrd, 1),
        profiles: Some(profiles),
        timestamp: 0,
    };
    let err = assemble(&stub, sections, std::io::sink()).unwrap_err();
    assert_eq!(err.to_string(), "UKI would have 109 sections, more than 96");
}

#[test]
fn sbat_is_read_from_the_stub() {
    assert_eq!(
        stub_sbat(&standard_stub()).unwrap(),
        [b"sbat,1,SBAT Version\n".as_slice(), &[0u8; 0x30 - 20]].concat()
    );
}

#[test]
fn section_names_are_checked() {
    assert!(SectionName::new(".toolong9").is_err());
    assert!(SectionName::new("").is_err());
    assert!(SectionName::new(".a b").is_err());
    assert_eq!(SectionName::new(".pcrsig").unwrap(), SectionName::PCRSIG);
}

/// A stub with an `.sdmagic` naming `loader`.
fn stub_with_loader(loader: &str) -> Vec<u8> {
    let mut magic = format!("#### LoaderInfo: {loader} ####").into_bytes();
    let vs = magic.len() as u32;
    magic.resize(0x200, 0);
    fake_stub(
        &[
            Fake {
                name: ".sdmagic",
                va: 0x1000,
                vs,
                raw: magic,
                flags: SCN_CNT_INITIALIZED_DATA | SCN_MEM_READ,
            },
            Fake {
                name: ".sbat",
                va: 0x2000,
                vs: 0x10,
                raw: vec![b's'; 0x200],
                flags: SCN_CNT_INITIALIZED_DATA | SCN_MEM_READ,
            },
        ],
        0x1000,
    )
}

#[test]
fn extra_profiles_need_systemd_257() {
    let old = stub_with_loader("systemd-stub 252.39-1~deb12u2");
    let new = stub_with_loader("systemd-stub 257.9");
    let unknown = standard_stub();
    let extra = [UkiProfile::reset_maintenance("x")];
    assert_eq!(profile_support(&new).unwrap(), ProfileSupport::Supported);
    assert_eq!(
        profile_support(&old).unwrap(),
        ProfileSupport::Unsupported(Some("systemd-stub 252.39-1~deb12u2".into()))
    );
    assert_eq!(
        profile_support(&unknown).unwrap(),
        ProfileSupport::Unsupported(None)
    );
    require_profile_support(&new, Some(&extra)).unwrap();
    for stub in [&old, &unknown] {
        // No profiles, or main only: one .cmdline, safe anywhere.
        require_profile_support(stub, None).unwrap();
        require_profile_support(stub, Some(&[])).unwrap();
        let err = require_profile_support(stub, Some(&extra)).unwrap_err();
        assert!(
            matches!(err, UkiError::ProfilesNeedNewerStub { extra: 1, .. }),
            "{err}"
        );
    }
    let err = require_profile_support(&old, Some(&extra)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("systemd-stub 252.39-1~deb12u2 predates systemd 257"),
        "{err}"
    );
}
