//! The per-version acceptance matrix of the PXE artifacts (issue #3): for
//! every Talos version of the synthetic release, served by a real
//! `docker-registry` on loopback, `factory_imager::build::build` makes the
//! kernel, the cmdlines and the initramfs (empty schematic and one with all
//! four fixture extensions), and each is checked with the real tools
//! against expectations taken from the release's OCI layout and upstream's
//! tables, not from the code under test.
//!
//! One test per version, so the harness runs versions in parallel and a
//! failure names its version; they share one registry
//! (`fixture_matrix_support::upstream`) and build each (version, schematic)
//! once.
//!
//! Needs the Debian packages docker-registry, skopeo, curl, jq (the
//! registry script), cpio, squashfs-tools, xz-utils, zstd and kmod.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod fixture_matrix_support;

use std::path::Path;

use factory_core::arch::Arch;
use factory_core::catalog::ReleaseCatalog;
use factory_core::cmdline::{self, CmdlineSpec};
use factory_core::platform::Platform;
use factory_core::profile::BuildProfile;
use factory_core::quirks::Quirks;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::build::{BuildContext, BuiltArtifact, build};
use factory_imager::catalog;
use sha2::{Digest as _, Sha256};
use synthetic_release::fixtures;

use fixture_matrix_support::expect::upstream_cmdline;
use fixture_matrix_support::initramfs::{self as check_initramfs, ExpectedLayer, LayerContent};
use fixture_matrix_support::layout::{Layout, SourceEntry, SourceImage};
use fixture_matrix_support::tools::require_tool;
use fixture_matrix_support::upstream;

/// The factory URL named in the schematic extension's author.
const EXTERNAL_URL: &str = "http://127.0.0.1:8080/";

/// All four fixture extensions, `gasket` by its alias, not in name order
/// (so the squashfs numbering follows the schematic), plus an extra
/// kernel argument for the cmdline.
const FOUR: &[u8] = b"customization:\n  extraKernelArgs: [talos.dashboard.disabled=1]\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/amd-ucode\n      - siderolabs/intel-ice-firmware\n      - siderolabs/gasket\n      - siderolabs/qemu-guest-agent\n";
/// The extra kernel argument of [`FOUR`].
const FOUR_EXTRA_ARGS: &[&str] = &["talos.dashboard.disabled=1"];
/// The repositories [`FOUR`] resolves to, in schematic order.
const FOUR_REPOSITORIES: [&str; 4] = [
    "siderolabs/amd-ucode",
    "siderolabs/intel-ice-firmware",
    "siderolabs/gasket-driver",
    "siderolabs/qemu-guest-agent",
];

/// The versions with a test below; must be every fixture version.
const TESTED: &[&str] = &[
    "v1.7.7",
    "v1.9.6",
    "v1.10.7",
    "v1.11.5",
    "v1.12.4",
    "v1.13.2",
    "v1.14.0-rc.1",
];

#[test]
fn every_fixture_version_has_a_test() {
    assert_eq!(
        TESTED,
        fixtures::VERSIONS.as_slice(),
        "add a version_test! line for each fixture version"
    );
}

macro_rules! version_test {
    ($name:ident, $tag:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            check_version($tag).await;
        }
    };
}

version_test!(v1_7_7, "v1.7.7");
version_test!(v1_9_6, "v1.9.6");
version_test!(v1_10_7, "v1.10.7");
version_test!(v1_11_5, "v1.11.5");
version_test!(v1_12_4, "v1.12.4");
version_test!(v1_13_2, "v1.13.2");
version_test!(v1_14_0_rc_1, "v1.14.0-rc.1");

/// Everything one version's builds need.
struct Env<'a> {
    tag: &'a str,
    version: TalosVersion,
    release: ReleaseCatalog,
    ctx: BuildContext<'a>,
    layout: Layout,
    kernel_release: String,
    out: &'a Path,
}

impl Env<'_> {
    fn profile(&self, path: &str, schematic: &Schematic) -> BuildProfile {
        factory_test_support::profile(path, schematic, &self.version, &self.release)
    }

    /// Builds `path` into `name` and checks the reported size and digest;
    /// returns the profile and the artifact's bytes.
    async fn build(
        &self,
        path: &str,
        schematic: &Schematic,
        name: &str,
    ) -> (BuildProfile, Vec<u8>) {
        let profile = self.profile(path, schematic);
        let dest = self.out.join(name);
        let built: BuiltArtifact = build(&self.ctx, &profile, schematic, &dest)
            .await
            .unwrap_or_else(|e| panic!("{} {path}: build: {e}", self.tag));
        let bytes = std::fs::read(&built.path).unwrap();
        assert_eq!(built.size, bytes.len() as u64, "{} {path}: size", self.tag);
        assert_eq!(
            built.sha256,
            hex::encode(Sha256::digest(&bytes)),
            "{} {path}: sha256",
            self.tag
        );
        (profile, bytes)
    }

    /// `usr/install/<arch>/<name>` of this version's imager image, from the layout.
    fn imager_file(&self, arch: &str, name: &str) -> Vec<u8> {
        let image = self.layout.image(
            &format!("{}:{}", fixtures::IMAGER_REPOSITORY, self.tag),
            arch,
        );
        match image.get(&format!("usr/install/{arch}/{name}")) {
            Some(SourceEntry::File { bytes, .. }) => bytes.clone(),
            other => panic!(
                "{}: imager has no usr/install/{arch}/{name}: {other:?}",
                self.tag
            ),
        }
    }
}

async fn check_version(tag: &str) {
    for (tool, package) in [
        ("cpio", "cpio"),
        ("unsquashfs", "squashfs-tools"),
        ("xz", "xz-utils"),
        ("zstd", "zstd"),
        ("depmod", "kmod"),
    ] {
        require_tool(tool, package);
    }
    let upstream = upstream::shared();
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let puller = upstream.puller(cache.path());
    let version: TalosVersion = tag.parse().unwrap();
    let release = catalog::release(&puller, &version)
        .await
        .unwrap_or_else(|e| panic!("{tag}: catalog: {e}"));
    let env = Env {
        tag,
        version,
        release,
        ctx: BuildContext {
            puller: &puller,
            external_url: EXTERNAL_URL,
            work_root: work.path(),
        },
        layout: Layout::open(&upstream.layout),
        kernel_release: upstream.summary.kernel_release.clone(),
        out: out.path(),
    };
    let empty = Schematic::parse(b"{}").unwrap();
    let four = Schematic::parse(FOUR).unwrap();

    check_kernels(&env, &empty).await;
    check_cmdlines(&env, &empty, &[]).await;
    check_cmdlines(&env, &four, FOUR_EXTRA_ARGS).await;
    check_initramfs_of(&env, &empty, Arch::Amd64, "empty schematic").await;
    check_initramfs_of(&env, &four, Arch::Amd64, "four extensions").await;
    // arm64: its own module directory (and kernel release) in the
    // kernel-module image and in modules.dep; microcode is taken out as on
    // amd64 (upstream does not look at the architecture).
    check_initramfs_of(&env, &four, Arch::Arm64, "four extensions").await;
}

/// `kernel-<arch>` is the imager's `vmlinuz`, byte for byte; amd64 is a
/// real bzImage.
async fn check_kernels(env: &Env<'_>, schematic: &Schematic) {
    for arch in ["amd64", "arm64"] {
        let (_, bytes) = env
            .build(
                &format!("kernel-{arch}"),
                schematic,
                &format!("kernel-{arch}"),
            )
            .await;
        assert!(
            bytes == env.imager_file(arch, "vmlinuz"),
            "{} kernel-{arch}: must be the imager's vmlinuz",
            env.tag
        );
        if arch == "amd64" {
            assert_eq!(
                bytes.get(0x202..0x206),
                Some(&b"HdrS"[..]),
                "{} kernel-amd64: bzImage header",
                env.tag
            );
        }
    }
}

/// Every `cmdline-<platform>-<arch>` equals both `factory_core`'s cmdline
/// for that version and platform and upstream's table.
async fn check_cmdlines(env: &Env<'_>, schematic: &Schematic, extra: &[&str]) {
    let extra_owned: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    for (platform, arch) in [
        (Platform::Metal, Arch::Amd64),
        (Platform::Metal, Arch::Arm64),
        (Platform::Aws, Arch::Amd64),
    ] {
        let path = format!("cmdline-{}-{arch}", platform.as_str());
        let (_, bytes) = env
            .build(&path, schematic, &format!("{path}-{}", schematic.id()))
            .await;
        let line = String::from_utf8(bytes).unwrap();
        let core = cmdline::build(&CmdlineSpec {
            platform,
            arch,
            version: &env.version,
            secureboot: false,
            iso: false,
            overlay_kernel_args: &[],
            meta: &[],
            extra_kernel_args: &extra_owned,
        })
        .to_string();
        assert_eq!(line, core, "{} {path}: factory_core's cmdline", env.tag);
        assert_eq!(
            line,
            upstream_cmdline(platform.as_str(), &arch.to_string(), &env.version, extra),
            "{} {path}: upstream's cmdline table",
            env.tag
        );
    }
}

/// Builds `initramfs-<arch>.xz` for `schematic` and checks it completely.
async fn check_initramfs_of(env: &Env<'_>, schematic: &Schematic, arch: Arch, what: &str) {
    let path = format!("initramfs-{arch}.xz");
    let (profile, built) = env
        .build(
            &path,
            schematic,
            &format!("initramfs-{arch}-{}.xz", schematic.id()),
        )
        .await;
    let kernel_release = match arch {
        Arch::Amd64 => env.kernel_release.clone(),
        Arch::Arm64 => fixtures::arm64_kernel_release(&env.kernel_release),
    };
    let quirks = Quirks::new(&env.version);
    let fixtures = fixtures::extensions(&env.version);
    let mut layers = Vec::new();

    let resolved: Vec<&str> = profile.extensions.iter().map(|e| e.name.as_str()).collect();
    let wanted: &[&str] = if profile.extensions.is_empty() {
        &[]
    } else {
        &FOUR_REPOSITORIES
    };
    assert_eq!(resolved, wanted, "{} {what}: profile extensions", env.tag);
    for (index, entry) in profile.extensions.iter().enumerate() {
        let fixture = fixtures
            .iter()
            .find(|f| f.repository == entry.name)
            .unwrap_or_else(|| panic!("{}: {} is not a fixture extension", env.tag, entry.name));
        assert_eq!(
            entry.digest,
            env.layout.digest_of(&fixture.reference()),
            "{} {what}: catalog digest of {}",
            env.tag,
            fixture.reference()
        );
        let source: SourceImage = env.layout.image(&fixture.reference(), &arch.to_string());
        layers.push(ExpectedLayer {
            image: format!("{index}.sqsh"),
            name: fixture.name().to_owned(),
            version: fixture.tag.clone(),
            author: fixture.author.to_owned(),
            description: format!("{}\n", fixture.description),
            compatibility: fixture.compatibility.clone(),
            extra_info: None,
            content: LayerContent::Image(source),
        });
    }
    let id = schematic.id().as_str().to_owned();
    layers.push(ExpectedLayer {
        image: format!("{}.sqsh", layers.len()),
        name: "schematic".to_owned(),
        version: id.clone(),
        author: format!("Image Factory ({EXTERNAL_URL})"),
        description:
            "Virtual extension which specifies the schematic of the image built with schematic."
                .to_owned(),
        compatibility: ">= 1.0.0".to_owned(),
        extra_info: quirks
            .schematic_extension_has_extra_info()
            .then(|| schematic.canonical_yaml()),
        content: LayerContent::SchematicMarker(id),
    });
    if !profile.extensions.is_empty() {
        layers.push(ExpectedLayer {
            image: "modules.dep.sqsh".to_owned(),
            name: "modules.dep".to_owned(),
            version: kernel_release.clone(),
            author: "Talos Machinery".to_owned(),
            description: "Combined modules.dep for all extensions".to_owned(),
            compatibility: String::new(),
            extra_info: None,
            content: LayerContent::ModulesDep,
        });
    }

    let scratch = tempfile::tempdir().unwrap();
    let base = env.imager_file(&arch.to_string(), "initramfs.xz");
    check_initramfs::check(&check_initramfs::Case {
        label: format!("{} {path}, {what}", env.tag),
        version: &env.version,
        built: &built,
        base: &base,
        layers,
        kernel_release: &kernel_release,
        work: scratch.path(),
    });
}
