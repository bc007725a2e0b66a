//! Small, well-formed but non-loadable kernel modules for the kernel-module
//! extension.
//!
//! The factory never loads extension modules; it runs `depmod` over them so
//! that the `modules.dep` layer lists them. depmod reads ELF relocatable
//! objects: section headers, `.modinfo`, exported names from
//! `__ksymtab_strings` and imported names from undefined `.symtab` entries.
//! So each module here is an ELF64 `ET_REL` for its architecture with exactly
//! those sections, and one module can import a symbol the other exports,
//! which gives depmod a real dependency to record. `.modinfo` says plainly
//! that the module is synthetic. The bytes are a pure function of the spec.

use factory_core::arch::Arch;

/// What a synthetic module declares.
#[derive(Debug, Clone)]
pub(crate) struct ModuleSpec<'a> {
    /// Target architecture (ELF machine and the `ret` instruction).
    pub(crate) arch: Arch,
    /// Module name (`gasket`).
    pub(crate) name: &'a str,
    /// Kernel release it claims to be built for (in `vermagic`).
    pub(crate) kernel_release: &'a str,
    /// Symbols it exports.
    pub(crate) exports: &'a [&'a str],
    /// Symbols it imports (from other modules).
    pub(crate) imports: &'a [&'a str],
    /// Modules it depends on (`depends=` in `.modinfo`).
    pub(crate) depends: &'a [&'a str],
}

const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;
const STB_GLOBAL: u8 = 1;
const STT_FUNC: u8 = 2;
const STT_NOTYPE: u8 = 0;

struct Section {
    name: &'static str,
    kind: u32,
    flags: u64,
    align: u64,
    data: Vec<u8>,
    link: u32,
    info: u32,
    entsize: u64,
}

/// Builds the module's bytes.
pub(crate) fn kernel_module(spec: &ModuleSpec<'_>) -> Vec<u8> {
    let (machine, ret): (u16, &[u8]) = match spec.arch {
        Arch::Amd64 => (62, &[0xc3]),
        Arch::Arm64 => (183, &[0xc0, 0x03, 0x5f, 0xd6]),
    };
    // One `ret` per exported function.
    let mut text = Vec::new();
    let mut function_offsets = Vec::new();
    for _ in spec.exports {
        function_offsets.push(text.len() as u64);
        text.extend_from_slice(ret);
        while !text.len().is_multiple_of(16) {
            text.push(0);
        }
    }
    if text.is_empty() {
        text.extend_from_slice(ret);
    }

    let modinfo = [
        "license=GPL".to_owned(),
        format!(
            "description=SYNTHETIC {} module for image-factory tests; not loadable",
            spec.name
        ),
        "author=image-factory synthetic release".to_owned(),
        format!("depends={}", spec.depends.join(",")),
        format!("name={}", spec.name),
        format!(
            "vermagic={} SMP preempt mod_unload modversions ",
            spec.kernel_release
        ),
    ]
    .iter()
    .flat_map(|s| s.bytes().chain([0]))
    .collect::<Vec<u8>>();

    let ksymtab_strings: Vec<u8> = spec
        .exports
        .iter()
        .flat_map(|s| s.bytes().chain([0]))
        .collect();

    // `struct module` stand-in: zeros with the name where the kernel has it
    // (after `state` and the list head).
    let mut this_module = vec![0u8; 0x400];
    for (slot, byte) in this_module.iter_mut().skip(0x18).zip(spec.name.bytes()) {
        *slot = byte;
    }

    // Section indexes are fixed by the order below.
    const TEXT: u16 = 1;
    const STRTAB: u32 = 6;
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 24];
    for (name, offset) in spec.exports.iter().zip(&function_offsets) {
        let name_offset = push_str(&mut strtab, name);
        symtab.extend(symbol(
            name_offset,
            (STB_GLOBAL << 4) | STT_FUNC,
            TEXT,
            *offset,
            ret.len() as u64,
        ));
    }
    for name in spec.imports {
        let name_offset = push_str(&mut strtab, name);
        symtab.extend(symbol(name_offset, (STB_GLOBAL << 4) | STT_NOTYPE, 0, 0, 0));
    }

    let sections = vec![
        Section {
            name: ".text",
            kind: SHT_PROGBITS,
            flags: SHF_ALLOC | SHF_EXECINSTR,
            align: 16,
            data: text,
            link: 0,
            info: 0,
            entsize: 0,
        },
        Section {
            name: ".modinfo",
            kind: SHT_PROGBITS,
            flags: SHF_ALLOC,
            align: 1,
            data: modinfo,
            link: 0,
            info: 0,
            entsize: 0,
        },
        Section {
            name: "__ksymtab_strings",
            kind: SHT_PROGBITS,
            flags: SHF_ALLOC,
            align: 1,
            data: ksymtab_strings,
            link: 0,
            info: 0,
            entsize: 0,
        },
        Section {
            name: ".gnu.linkonce.this_module",
            kind: SHT_PROGBITS,
            flags: SHF_ALLOC | SHF_WRITE,
            align: 64,
            data: this_module,
            link: 0,
            info: 0,
            entsize: 0,
        },
        Section {
            name: ".symtab",
            kind: SHT_SYMTAB,
            flags: 0,
            align: 8,
            data: symtab,
            link: STRTAB,
            // Index of the first global symbol: only the null symbol is local.
            info: 1,
            entsize: 24,
        },
        Section {
            name: ".strtab",
            kind: SHT_STRTAB,
            flags: 0,
            align: 1,
            data: strtab,
            link: 0,
            info: 0,
            entsize: 0,
        },
    ];
    write_elf(machine, sections)
}

fn push_str(table: &mut Vec<u8>, s: &str) -> u32 {
    let offset = table.len() as u32;
    table.extend_from_slice(s.as_bytes());
    table.push(0);
    offset
}

fn symbol(name: u32, info: u8, shndx: u16, value: u64, size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend(name.to_le_bytes());
    out.push(info);
    out.push(0);
    out.extend(shndx.to_le_bytes());
    out.extend(value.to_le_bytes());
    out.extend(size.to_le_bytes());
    out
}

fn align(buf: &mut Vec<u8>, to: u64) {
    while !(buf.len() as u64).is_multiple_of(to.max(1)) {
        buf.push(0);
    }
}

/// Lays out header, section data, `.shstrtab` and the section headers.
fn write_elf(machine: u16, mut sections: Vec<Section>) -> Vec<u8> {
    let mut shstrtab = vec![0u8];
    let mut name_offsets: Vec<u32> = sections
        .iter()
        .map(|s| push_str(&mut shstrtab, s.name))
        .collect();
    name_offsets.push(push_str(&mut shstrtab, ".shstrtab"));
    sections.push(Section {
        name: ".shstrtab",
        kind: SHT_STRTAB,
        flags: 0,
        align: 1,
        data: shstrtab,
        link: 0,
        info: 0,
        entsize: 0,
    });

    let mut out = vec![0u8; 64];
    let mut offsets = Vec::with_capacity(sections.len());
    for section in &sections {
        align(&mut out, section.align);
        offsets.push(out.len() as u64);
        out.extend_from_slice(&section.data);
    }
    align(&mut out, 8);
    let shoff = out.len() as u64;
    let shnum = sections.len() as u16 + 1;

    // Null section header, then one per section.
    out.extend([0u8; 64]);
    for ((section, offset), name) in sections.iter().zip(&offsets).zip(&name_offsets) {
        out.extend(name.to_le_bytes());
        out.extend(section.kind.to_le_bytes());
        out.extend(section.flags.to_le_bytes());
        out.extend(0u64.to_le_bytes()); // sh_addr
        out.extend(offset.to_le_bytes());
        out.extend((section.data.len() as u64).to_le_bytes());
        out.extend(section.link.to_le_bytes());
        out.extend(section.info.to_le_bytes());
        out.extend(section.align.to_le_bytes());
        out.extend(section.entsize.to_le_bytes());
    }

    let mut header = Vec::with_capacity(64);
    header.extend(b"\x7fELF");
    header.extend([2, 1, 1, 0]); // 64-bit, little endian, version 1, System V
    header.extend([0u8; 8]);
    header.extend(1u16.to_le_bytes()); // ET_REL
    header.extend(machine.to_le_bytes());
    header.extend(1u32.to_le_bytes()); // EV_CURRENT
    header.extend(0u64.to_le_bytes()); // e_entry
    header.extend(0u64.to_le_bytes()); // e_phoff
    header.extend(shoff.to_le_bytes());
    header.extend(0u32.to_le_bytes()); // e_flags
    header.extend(64u16.to_le_bytes()); // e_ehsize
    header.extend(0u16.to_le_bytes()); // e_phentsize
    header.extend(0u16.to_le_bytes()); // e_phnum
    header.extend(64u16.to_le_bytes()); // e_shentsize
    header.extend(shnum.to_le_bytes());
    header.extend((shnum - 1).to_le_bytes()); // .shstrtab is last
    for (slot, byte) in out.iter_mut().zip(header) {
        *slot = byte;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_has_modinfo_and_symbols() {
        let bytes = kernel_module(&ModuleSpec {
            arch: Arch::Amd64,
            name: "apex",
            kernel_release: "6.1.0-56-amd64",
            exports: &["apex_probe"],
            imports: &["gasket_register_device"],
            depends: &["gasket"],
        });
        assert_eq!(&bytes[..4], b"\x7fELF");
        assert_eq!(u16::from_le_bytes([bytes[16], bytes[17]]), 1);
        assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), 62);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("depends=gasket\0"));
        assert!(text.contains("vermagic=6.1.0-56-amd64 "));
        assert!(text.contains("gasket_register_device\0"));
    }
}
