//! The SBC overlay of a profile, as upstream's imager uses it.
//!
//! Two uses, two architectures (`upstream-imager.md` §8.3):
//!
//! - the **target** architecture's image is embedded in installers
//!   (`overlay/artifacts/...`, `overlay/installers/default`): [`extract`]
//!   writes its `artifacts/` tree and `installers/<name>` under a directory;
//! - the **host** architecture's installer program is *run* with
//!   `get-options` to learn the kernel args the board needs
//!   ([`kernel_args`]); they go into the command line of UKIs (the `uki`
//!   output and the UKI inside ≥1.10 installers). This executes a program
//!   from the overlay image, exactly as upstream's imager does; it gets the
//!   options YAML on stdin, an empty environment, [`GET_OPTIONS_TIMEOUT`],
//!   and at most [`MAX_GET_OPTIONS_OUTPUT`] bytes of answer.
//!
//! Images are flattened with the extension flattener (same hostile-archive
//! rules and [`Limits`]) and only the needed subtrees are written out:
//! directories, then regular files, then symbolic links (whose targets the
//! flattener already confined to the image), so no write follows a link.
//!
//! The options file (`overlay/extra-options`, and `get-options`' stdin) is
//! go-yaml's rendering of the schematic's `overlay.options`, taken from the
//! schematic's canonical YAML, which the same emitter writes ([`options_yaml`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use factory_core::arch::Arch;
use factory_core::profile::{BuildProfile, ResolvedOverlay};
use factory_core::schematic::Schematic;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::extension::{FlatTree, Limits, Node, TreePath, flatten_layers};

use super::{BuildContext, BuildError};

/// How long the overlay installer may take to answer `get-options`.
pub const GET_OPTIONS_TIMEOUT: Duration = Duration::from_secs(60);
/// The most bytes of `get-options` output read (1 MiB; real answers are a
/// few hundred bytes). More is an error.
pub const MAX_GET_OPTIONS_OUTPUT: u64 = 1 << 20;

/// The architecture this process runs on, as Talos names it; `None` where
/// no overlay installer can run.
pub(super) fn host_arch() -> Option<Arch> {
    match std::env::consts::ARCH {
        "x86_64" => Some(Arch::Amd64),
        "aarch64" => Some(Arch::Arm64),
        _ => None,
    }
}

fn fail(overlay: &ResolvedOverlay, reason: impl Into<String>) -> BuildError {
    BuildError::Overlay {
        name: overlay.entry.name.clone(),
        reason: reason.into(),
    }
}

/// Extracts `artifacts/` and `installers/<name>` of the `arch` overlay image
/// under `dir` (created); returns the extracted root, `dir/root`.
pub(super) async fn extract(
    ctx: &BuildContext<'_>,
    overlay: &ResolvedOverlay,
    arch: Arch,
    dir: &Path,
) -> Result<PathBuf, BuildError> {
    let entry = &overlay.entry;
    let image = ctx
        .puller
        .image_for_arch(&entry.image, &entry.digest, arch)
        .await?;
    let mut blobs = Vec::with_capacity(image.layers.len());
    for layer in &image.layers {
        blobs.push(ctx.puller.blob(&entry.image, layer).await?);
    }
    let installer = installer_path(overlay)?;
    let artifacts = TreePath::from_components(["artifacts"])
        .ok_or_else(|| fail(overlay, "`artifacts` is not a tree path"))?;
    let root = dir.join("root");
    let scratch = dir.join("blobs");
    let (root2, overlay2) = (root.clone(), overlay.clone());
    tokio::task::spawn_blocking(move || {
        let files = blobs
            .iter()
            .map(|path| std::fs::File::open(path).map(std::io::BufReader::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(&overlay2, format!("opening a layer: {e}")))?;
        let tree = flatten_layers(files, &scratch, &Limits::default())
            .map_err(|e| fail(&overlay2, e.to_string()))?;
        if tree.get(&installer).is_none() {
            return Err(fail(
                &overlay2,
                format!("the image has no {}", installer.as_str()),
            ));
        }
        materialize(&tree, &[&artifacts, &installer], &root2)
            .map_err(|e| fail(&overlay2, format!("writing {}: {e}", root2.display())))?;
        std::fs::remove_dir_all(&scratch).map_err(BuildError::io("removing", &scratch))
    })
    .await
    .map_err(|e| fail(overlay, e.to_string()))??;
    Ok(root)
}

/// `installers/<name>` in the overlay image.
fn installer_path(overlay: &ResolvedOverlay) -> Result<TreePath, BuildError> {
    let name = overlay.entry.name.as_str();
    if name.contains('/') {
        return Err(fail(overlay, "the overlay name is not one path component"));
    }
    TreePath::from_components(["installers", name])
        .ok_or_else(|| fail(overlay, "the overlay name is not a valid file name"))
}

/// Writes the subtrees `wanted` of `tree` under `root`.
fn materialize(tree: &FlatTree, wanted: &[&TreePath], root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(root)?;
    let mut links = Vec::new();
    let mut dir_modes = Vec::new();
    for top in wanted {
        for parent in top.ancestors() {
            std::fs::create_dir_all(root.join(parent.as_str()))?;
        }
        for (path, node) in tree.subtree(top) {
            let dest = root.join(path.as_str());
            match node {
                Node::Dir { mode } => {
                    std::fs::create_dir_all(&dest)?;
                    dir_modes.push((dest, *mode));
                }
                Node::File { mode, blob, .. } => {
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    let mut from = std::fs::File::open(tree.blob_path(*blob))?;
                    let mut to = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&dest)?;
                    std::io::copy(&mut from, &mut to)?;
                    to.set_permissions(std::fs::Permissions::from_mode(*mode & 0o7777))?;
                }
                Node::Symlink { target } => links.push((dest, target.clone())),
            }
        }
    }
    for (dest, target) in links {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::os::unix::fs::symlink(target, &dest)?;
    }
    // Directory modes last, so a read-only directory does not stop the walk.
    for (dest, mode) in dir_modes.into_iter().rev() {
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode & 0o7777))?;
    }
    Ok(())
}

/// The overlay's `overlay.options` as go-yaml marshals the map (`{}\n`
/// when there are none), cut out of the schematic's canonical YAML: there
/// the options are the last member of `overlay` (indented by 8) and
/// `customization` always follows at column 0.
pub(super) fn options_yaml(schematic: &Schematic) -> Vec<u8> {
    const START: &str = "\n    options:\n";
    const INDENT: &str = "        ";
    let canonical = schematic.canonical_yaml();
    // Option lines are indented (blank lines inside literal blocks are
    // empty), so `customization:` at column 0 ends them.
    let body = canonical.find(START).and_then(|at| {
        let rest = canonical.get(at + START.len()..)?;
        let end = rest.find("\ncustomization:")?;
        rest.get(..=end)
    });
    let Some(body) = body.filter(|b| !b.is_empty()) else {
        return b"{}\n".to_vec();
    };
    let mut out = String::with_capacity(body.len());
    for line in body.split_inclusive('\n') {
        out.push_str(line.strip_prefix(INDENT).unwrap_or(line));
    }
    out.into_bytes()
}

#[derive(serde::Deserialize)]
struct GetOptions {
    #[serde(rename = "kernelArgs", default)]
    kernel_args: Vec<String>,
}

/// The kernel args the overlay's installer asks for (none without an
/// overlay): `installers/<name> get-options` of the host-architecture image.
pub(super) async fn kernel_args(
    ctx: &BuildContext<'_>,
    profile: &BuildProfile,
    schematic: &Schematic,
    work: &Path,
) -> Result<Vec<String>, BuildError> {
    let Some(overlay) = &profile.overlay else {
        return Ok(Vec::new());
    };
    let host = host_arch().ok_or_else(|| {
        fail(
            overlay,
            format!(
                "its installer cannot run on a {} host",
                std::env::consts::ARCH
            ),
        )
    })?;
    let root = extract(ctx, overlay, host, &work.join("overlay-host")).await?;
    let program = root.join("installers").join(&overlay.entry.name);
    let options = options_yaml(schematic);
    let output = run_get_options(&program, &options)
        .await
        .map_err(|reason| {
            fail(
                overlay,
                format!("{} get-options: {reason}", program.display()),
            )
        })?;
    let parsed: GetOptions = serde_saphyr::from_str(&output)
        .map_err(|e| fail(overlay, format!("get-options answered malformed YAML: {e}")))?;
    Ok(parsed.kernel_args)
}

/// Runs `program get-options` with `stdin`, bounded in time and output.
async fn run_get_options(program: &Path, stdin: &[u8]) -> Result<String, String> {
    let mut child = tokio::process::Command::new(program)
        .arg("get-options")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting: {e}"))?;
    let mut input = child.stdin.take().ok_or("no stdin")?;
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut err = child.stderr.take().ok_or("no stderr")?;
    let stdin = stdin.to_vec();
    let work = async move {
        // Errors are read on the side, so a program that floods stdout is
        // stopped at the limit whatever it does with stderr.
        let errors = tokio::spawn(async move {
            let mut stderr = Vec::new();
            let _ = (&mut err).take(64 * 1024).read_to_end(&mut stderr).await;
            stderr
        });
        let feed = async {
            // A program that does not read its input closes the pipe early.
            let _ = input.write_all(&stdin).await;
            drop(input);
        };
        let mut stdout = Vec::new();
        let mut out = (&mut out).take(MAX_GET_OPTIONS_OUTPUT + 1);
        let ((), read) = tokio::join!(feed, out.read_to_end(&mut stdout));
        read.map_err(|e| format!("reading its output: {e}"))?;
        if stdout.len() as u64 > MAX_GET_OPTIONS_OUTPUT {
            let _ = child.start_kill();
            return Err(format!(
                "more than {MAX_GET_OPTIONS_OUTPUT} bytes of output"
            ));
        }
        let status = child.wait().await.map_err(|e| format!("waiting: {e}"))?;
        let stderr = errors.await.unwrap_or_default();
        Ok::<_, String>((status, stdout, stderr))
    };
    let (status, stdout, stderr) = tokio::time::timeout(GET_OPTIONS_TIMEOUT, work)
        .await
        .map_err(|_| format!("no answer within {GET_OPTIONS_TIMEOUT:?}"))??;
    if !status.success() {
        let message: String = String::from_utf8_lossy(&stderr)
            .chars()
            .take(1024)
            .collect();
        return Err(format!("{status}: {}", message.trim()));
    }
    String::from_utf8(stdout).map_err(|_| "the output is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schematic(yaml: &str) -> Schematic {
        Schematic::parse(yaml.as_bytes()).unwrap()
    }

    #[test]
    fn options_as_go_yaml_marshals_them() {
        assert_eq!(options_yaml(&schematic("{}")), b"{}\n");
        assert_eq!(
            options_yaml(&schematic("overlay: {name: rpi_generic, image: x}\n")),
            b"{}\n"
        );
        let yaml = "overlay:\n  name: rpi_generic\n  image: x\n  options:\n    \
                    configTxtAppend: |\n      a=1\n\n      b=2\n    list: [1, two]\n    \
                    nested: {z: 1, a: yes}\n";
        let text = String::from_utf8(options_yaml(&schematic(yaml))).unwrap();
        assert_eq!(
            text,
            "configTxtAppend: |\n    a=1\n\n    b=2\nlist:\n    - 1\n    - two\nnested:\n    \
             a: \"yes\"\n    z: 1\n"
        );
    }

    fn script(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join("installer");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[tokio::test]
    async fn get_options_is_run_with_the_options_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let echo = script(
            dir.path(),
            "[ \"$1\" = get-options ] || exit 3\nprintf 'kernelArgs:\\n'; sed 's/^/  - /'",
        );
        let out = run_get_options(&echo, b"a=1\nb=2\n").await.unwrap();
        let parsed: GetOptions = serde_saphyr::from_str(&out).unwrap();
        assert_eq!(parsed.kernel_args, ["a=1", "b=2"]);

        let failing = script(dir.path(), "echo broken >&2; exit 4");
        let err = run_get_options(&failing, b"").await.unwrap_err();
        assert!(err.contains("broken"), "{err}");

        let chatty = script(dir.path(), "exec yes kernelArgs");
        let err = run_get_options(&chatty, b"").await.unwrap_err();
        assert!(err.starts_with("more than 1048576 bytes"), "{err}");
    }
}
