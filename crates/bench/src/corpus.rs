//! Inputs laid out from the corpus tarballs, one folder per component.
//!
//! - Material UI: every top-level folder of `package/` whose name starts
//!   with an upper-case letter is one component (`Button`, `Card`).
//! - Icons: the files of `package/` that share the name before their
//!   first `.` (`Abc.js`, `Abc.d.ts`) form one component, laid out as the
//!   folder `Abc/`.
//! - Large files: 16 files of random bytes in one folder, so that zstd and
//!   zlib cannot shrink them.
//!
//! Both tools read the same laid-out trees. Each input is built once into
//! the work directory and marked complete by a file beside it, so an
//! interrupted layout is redone on the next start.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use flate2::read::GzDecoder;
use rand::RngCore;

/// Components of each Material UI release kept by `--quick`.
const QUICK_MUI_COMPONENTS: usize = 8;

/// Icon components kept by `--quick`.
const QUICK_ICON_COMPONENTS: usize = 200;

/// Number of random files of the large-file input.
pub const LARGE_FILE_COUNT: usize = 16;

/// The laid-out inputs; each is a folder holding one folder per component.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Material UI 9.5.0.
    pub mui_old: PathBuf,
    /// Material UI 9.6.0, limited to the components of `mui_old`.
    pub mui_new: PathBuf,
    /// Material UI icons 9.6.0.
    pub icons: PathBuf,
    /// One component of 16 random files.
    pub large: PathBuf,
}

/// How the inputs are cut down and sized.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Keeps a few components of each library only.
    pub quick: bool,
    /// Size of each random file, in bytes.
    pub large_file_bytes: u64,
}

/// Lays out every input under `work` from the tarballs in `corpus`,
/// reusing inputs laid out by an earlier start.
pub fn prepare(corpus: &Path, work: &Path, shape: Shape) -> Result<Inputs> {
    let dir = work.join(if shape.quick {
        "inputs-quick"
    } else {
        "inputs"
    });
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let mui_limit = shape.quick.then_some(QUICK_MUI_COMPONENTS);
    let mui_old = dir.join("mui-9.5.0");
    once(&mui_old, |out| {
        lay_out_mui(&corpus.join("mui-material-9.5.0.tgz"), out, mui_limit)
    })?;
    let kept = component_names(&mui_old)?;
    let mui_new = dir.join("mui-9.6.0");
    once(&mui_new, |out| {
        lay_out_mui(&corpus.join("mui-material-9.6.0.tgz"), out, None)?;
        remove_components_except(out, &kept)
    })?;

    let icon_limit = shape.quick.then_some(QUICK_ICON_COMPONENTS);
    let icons = dir.join("icons-9.6.0");
    once(&icons, |out| {
        lay_out_icons(
            &corpus.join("mui-icons-material-9.6.0.tgz"),
            out,
            icon_limit,
        )
    })?;

    let large = dir.join(format!("large-{}", shape.large_file_bytes));
    once(&large, |out| {
        write_random_files(&out.join("blobs"), shape.large_file_bytes)
    })?;
    Ok(Inputs {
        mui_old,
        mui_new,
        icons,
        large,
    })
}

/// Builds `out` with `build` unless a completed build exists.
fn once(out: &Path, build: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let marker = out.with_extension("complete");
    if marker.exists() {
        return Ok(());
    }
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("cannot remove {}", out.display()))?;
    }
    eprintln!("laying out {}", out.display());
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    build(out)?;
    File::create(&marker).with_context(|| format!("cannot create {}", marker.display()))?;
    Ok(())
}

/// Unpacks `tarball` into `into`.
fn unpack(tarball: &Path, into: &Path) -> Result<()> {
    let file = File::open(tarball).with_context(|| {
        format!(
            "cannot open {}; run scripts/fetch-corpus.sh or set FERRY_CORPUS",
            tarball.display()
        )
    })?;
    tar::Archive::new(GzDecoder::new(file))
        .unpack(into)
        .with_context(|| format!("cannot unpack {}", tarball.display()))
}

/// Moves the upper-case folders of the tarball's `package/` into `out`,
/// the first `limit` of them by name when a limit is given.
fn lay_out_mui(tarball: &Path, out: &Path, limit: Option<usize>) -> Result<()> {
    let unpacked = out.join(".unpacked");
    unpack(tarball, &unpacked)?;
    let package = unpacked.join("package");
    let mut names: Vec<String> = component_names(&package)?
        .into_iter()
        .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    names.truncate(limit.unwrap_or(usize::MAX));
    for name in &names {
        rename(&package.join(name), &out.join(name))?;
    }
    remove_dir(&unpacked)
}

/// Groups the files of the tarball's `package/` by the name before their
/// first `.` and moves each group into its own folder of `out`.
fn lay_out_icons(tarball: &Path, out: &Path, limit: Option<usize>) -> Result<()> {
    let unpacked = out.join(".unpacked");
    unpack(tarball, &unpacked)?;
    let package = unpacked.join("package");
    let groups = group_files_by_stem(&package)?;
    for (stem, files) in groups.iter().take(limit.unwrap_or(usize::MAX)) {
        let component = out.join(stem);
        fs::create_dir(&component)
            .with_context(|| format!("cannot create {}", component.display()))?;
        for file in files {
            rename(&package.join(file), &component.join(file))?;
        }
    }
    remove_dir(&unpacked)
}

/// Returns the regular files of `dir` grouped by the name before their
/// first `.`, sorted by that name.
fn group_files_by_stem(dir: &Path) -> Result<BTreeMap<String, Vec<String>>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in read_dir(dir)? {
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let stem = name.split('.').next().unwrap_or_default().to_owned();
        groups.entry(stem).or_default().push(name);
    }
    Ok(groups)
}

/// Removes every component folder of `dir` whose name is not in `keep`.
fn remove_components_except(dir: &Path, keep: &[String]) -> Result<()> {
    for name in component_names(dir)? {
        if !keep.contains(&name) {
            remove_dir(&dir.join(name))?;
        }
    }
    Ok(())
}

/// Writes `LARGE_FILE_COUNT` files of `size` random bytes into `dir`.
fn write_random_files(dir: &Path, size: u64) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut rng = rand::rng();
    let mut chunk = vec![0u8; 1 << 20];
    for index in 0..LARGE_FILE_COUNT {
        let path = dir.join(format!("random-{index:02}.bin"));
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut writer = BufWriter::new(file);
        let mut left = size;
        while left > 0 {
            let take = left.min(chunk.len() as u64) as usize;
            rng.fill_bytes(&mut chunk[..take]);
            writer.write_all(&chunk[..take])?;
            left -= take as u64;
        }
        writer.flush()?;
    }
    Ok(())
}

/// Returns the names of the folders in `dir`, sorted.
pub fn component_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in read_dir(dir)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Copies the tree at `from` to `to`, which must not exist yet.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in read_dir(from)? {
        let source = entry.path();
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            fs::copy(&source, &target)
                .with_context(|| format!("cannot copy {}", source.display()))?;
        }
    }
    Ok(())
}

/// Copies the component folders `names` of `tree` into `to`.
pub fn copy_components(tree: &Path, names: &[String], to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for name in names {
        copy_tree(&tree.join(name), &to.join(name))?;
    }
    Ok(())
}

/// Replaces the contents of every component folder of `workspace` that
/// `release` holds with the folder from `release`, the way unpacking a new
/// release over an old one would; other entries stay.
pub fn replace_components(release: &Path, workspace: &Path) -> Result<()> {
    for name in component_names(release)? {
        let target = workspace.join(&name);
        if target.exists() {
            remove_dir(&target)?;
        }
        copy_tree(&release.join(&name), &target)?;
    }
    Ok(())
}

fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    entries
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read {}", dir.display()))
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).with_context(|| format!("cannot move {}", from.display()))
}

/// Removes the directory tree at `dir`.
pub fn remove_dir(dir: &Path) -> Result<()> {
    fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_grouped_by_stem() {
        let temp = tempfile::tempdir().expect("tempdir");
        let dir = temp.path();
        for name in [
            "Abc.js",
            "Abc.d.ts",
            "Abc.d.mts",
            "AbcOutlined.js",
            "README.md",
        ] {
            fs::write(dir.join(name), name).expect("write");
        }
        fs::create_dir(dir.join("utils")).expect("create");
        let groups = group_files_by_stem(dir).expect("group");

        let stems: Vec<&str> = groups.keys().map(String::as_str).collect();
        assert_eq!(stems, ["Abc", "AbcOutlined", "README"]);
        assert_eq!(groups["Abc"].len(), 3);
    }
}
