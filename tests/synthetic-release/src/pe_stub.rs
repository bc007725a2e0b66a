//! Stand-ins for the arm64 systemd-stub and systemd-boot: valid, tiny PE32+
//! images that say in their content that they are not executable.
//!
//! Debian's amd64 packages give real amd64 EFI binaries, but nothing on this
//! machine gives arm64 ones. The factory still builds arm64 UKIs (sections
//! appended to the stub) and puts systemd-boot on arm64 ESPs, and its PE
//! assembler parses the stub's headers and copies its `.sbat`, so a text file
//! would not do. These images have what that code reads (DOS header,
//! `PE\0\0`, COFF header for ARM64, PE32+ optional header, a section table,
//! no COFF symbols) and nothing more; `.text` holds a note instead of code.

/// File alignment of the sections.
const FILE_ALIGNMENT: u32 = 0x200;
/// Memory alignment of the sections.
const SECTION_ALIGNMENT: u32 = 0x1000;
/// Where the PE signature starts (`e_lfanew`).
const PE_OFFSET: usize = 0x80;
/// COFF machine type of ARM64.
const MACHINE_ARM64: u16 = 0xaa64;
/// `IMAGE_SUBSYSTEM_EFI_APPLICATION`.
const SUBSYSTEM_EFI_APPLICATION: u16 = 10;
/// Size of a PE32+ optional header with 16 data directories.
const OPTIONAL_HEADER_SIZE: u16 = 240;

const SCN_CODE: u32 = 0x0000_0020;
const SCN_INITIALIZED_DATA: u32 = 0x0000_0040;
const SCN_MEM_EXECUTE: u32 = 0x2000_0000;
const SCN_MEM_READ: u32 = 0x4000_0000;

/// An arm64 stand-in EFI image whose `.text` is `note`, followed by the
/// other `sections` (name, content) in order.
pub(crate) fn arm64_stand_in(note: &str, sections: &[(&str, &[u8])]) -> Vec<u8> {
    let mut all: Vec<(&str, &[u8], u32)> = vec![(
        ".text",
        note.as_bytes(),
        SCN_CODE | SCN_MEM_EXECUTE | SCN_MEM_READ,
    )];
    all.extend(
        sections
            .iter()
            .map(|(name, data)| (*name, *data, SCN_INITIALIZED_DATA | SCN_MEM_READ)),
    );

    let table_offset = PE_OFFSET + 4 + 20 + usize::from(OPTIONAL_HEADER_SIZE);
    let size_of_headers = align(table_offset as u32 + 40 * all.len() as u32, FILE_ALIGNMENT);

    // Section placement: file offsets from the end of the headers, virtual
    // addresses from the first page.
    let mut placed = Vec::with_capacity(all.len());
    let mut file_offset = size_of_headers;
    let mut virtual_address = SECTION_ALIGNMENT;
    for (name, data, characteristics) in &all {
        let size = data.len() as u32;
        let raw_size = align(size, FILE_ALIGNMENT);
        placed.push((
            *name,
            *data,
            *characteristics,
            virtual_address,
            file_offset,
            raw_size,
        ));
        file_offset += raw_size;
        virtual_address = align(virtual_address + size.max(1), SECTION_ALIGNMENT);
    }
    let size_of_image = virtual_address;
    let size_of_code: u32 = placed
        .iter()
        .filter(|p| p.2 & SCN_CODE != 0)
        .map(|p| p.5)
        .sum();
    let size_of_data: u32 = placed
        .iter()
        .filter(|p| p.2 & SCN_INITIALIZED_DATA != 0)
        .map(|p| p.5)
        .sum();

    let mut out = Vec::with_capacity(file_offset as usize);
    // DOS header: magic and e_lfanew; the DOS stub area holds the note.
    out.extend(b"MZ");
    out.resize(0x3c, 0);
    out.extend((PE_OFFSET as u32).to_le_bytes());
    out.extend(note.bytes().take(PE_OFFSET - 0x40));
    out.resize(PE_OFFSET, 0);

    out.extend(b"PE\0\0");
    out.extend(MACHINE_ARM64.to_le_bytes());
    out.extend((all.len() as u16).to_le_bytes());
    out.extend(0u32.to_le_bytes()); // TimeDateStamp
    out.extend(0u32.to_le_bytes()); // PointerToSymbolTable
    out.extend(0u32.to_le_bytes()); // NumberOfSymbols
    out.extend(OPTIONAL_HEADER_SIZE.to_le_bytes());
    out.extend(0x0226u16.to_le_bytes()); // executable, stripped, large-address aware

    let text_address = placed.first().map_or(SECTION_ALIGNMENT, |p| p.3);
    out.extend(0x020bu16.to_le_bytes()); // PE32+
    out.extend([0u8, 0u8]); // linker version
    out.extend(size_of_code.to_le_bytes());
    out.extend(size_of_data.to_le_bytes());
    out.extend(0u32.to_le_bytes()); // SizeOfUninitializedData
    out.extend(text_address.to_le_bytes()); // AddressOfEntryPoint
    out.extend(text_address.to_le_bytes()); // BaseOfCode
    out.extend(0u64.to_le_bytes()); // ImageBase
    out.extend(SECTION_ALIGNMENT.to_le_bytes());
    out.extend(FILE_ALIGNMENT.to_le_bytes());
    out.extend([0u8; 12]); // OS, image and subsystem versions
    out.extend(0u32.to_le_bytes()); // Win32VersionValue
    out.extend(size_of_image.to_le_bytes());
    out.extend(size_of_headers.to_le_bytes());
    out.extend(0u32.to_le_bytes()); // CheckSum
    out.extend(SUBSYSTEM_EFI_APPLICATION.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // DllCharacteristics
    out.extend([0u8; 32]); // stack and heap reserve/commit
    out.extend(0u32.to_le_bytes()); // LoaderFlags
    out.extend(16u32.to_le_bytes()); // NumberOfRvaAndSizes
    out.extend([0u8; 128]); // data directories, all empty

    for (name, data, characteristics, address, offset, raw_size) in &placed {
        let mut short_name = [0u8; 8];
        for (slot, byte) in short_name.iter_mut().zip(name.bytes()) {
            *slot = byte;
        }
        out.extend(short_name);
        out.extend((data.len() as u32).to_le_bytes()); // VirtualSize
        out.extend(address.to_le_bytes());
        out.extend(raw_size.to_le_bytes());
        out.extend(offset.to_le_bytes());
        out.extend([0u8; 12]); // relocations and line numbers
        out.extend(characteristics.to_le_bytes());
    }
    out.resize(size_of_headers as usize, 0);
    for (_, data, _, _, offset, raw_size) in &placed {
        out.resize(*offset as usize, 0);
        out.extend_from_slice(data);
        out.resize((*offset + *raw_size) as usize, 0);
    }
    out
}

fn align(value: u32, to: u32) -> u32 {
    value.div_ceil(to) * to
}

#[cfg(test)]
mod tests {
    use object::read::pe::PeFile64;
    use object::{Object, ObjectSection};

    use super::*;

    #[test]
    fn stand_in_parses_as_arm64_pe() {
        let bytes = arm64_stand_in(
            "SYNTHETIC arm64 stand-in",
            &[(".sbat", b"sbat,1,SBAT Version\n".as_slice())],
        );
        let pe = PeFile64::parse(bytes.as_slice()).unwrap();
        assert_eq!(pe.architecture(), object::Architecture::Aarch64);
        let names: Vec<_> = pe
            .sections()
            .map(|s| s.name().unwrap().to_owned())
            .collect();
        assert_eq!(names, [".text", ".sbat"]);
        let sbat = pe.section_by_name(".sbat").unwrap();
        assert!(sbat.data().unwrap().starts_with(b"sbat,1,SBAT Version\n"));
        assert_eq!(sbat.address() % u64::from(SECTION_ALIGNMENT), 0);
    }
}
