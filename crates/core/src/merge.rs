//! Three-way merge of two snaps' file lists against their merge base.
//!
//! For each path, a side that left the file as it was in the base yields
//! to the side that changed it. When both sides changed a file in
//! different ways, text files are merged line by line with diffy's
//! three-way merge; edits to the same or adjacent lines, binary files, a
//! file changed on one side and deleted on the other, and a mode changed
//! differently on both sides are conflicts. A conflicted merge keeps the
//! paths that did merge apart from the conflicts, so a caller can write
//! them into a work tree for a person to finish, but it offers no file
//! list a snap could be built from by mistake.

use std::collections::BTreeMap;

use crate::id::ObjectId;
use crate::object::{FileEntry, FileMode};
use crate::path::FilePath;

/// How many leading bytes are searched for NUL to call a file binary,
/// the same rule most version control tools use.
const BINARY_PROBE_LEN: usize = 8000;

/// The content of a file in a merge result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergedContent {
    /// Unchanged content of one side, already stored as this blob.
    Blob {
        /// The blob id.
        id: ObjectId,
        /// Its length in bytes.
        size: u64,
    },
    /// New content produced by a line merge; the caller stores it.
    New(Vec<u8>),
}

/// One file of a merge result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergedFile {
    /// The file's path.
    pub path: FilePath,
    /// The file's mode.
    pub mode: FileMode,
    /// The file's content.
    pub content: MergedContent,
}

/// Why a path could not be merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictKind {
    /// Both sides edited the same or adjacent lines.
    Content,
    /// Both sides changed a binary file differently.
    Binary,
    /// One side changed the file and the other deleted it.
    ModifyDelete,
    /// Both sides changed the file's mode differently.
    Mode,
}

impl ConflictKind {
    /// Returns the kind's stable text form, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::Content => "content",
            ConflictKind::Binary => "binary",
            ConflictKind::ModifyDelete => "modify-delete",
            ConflictKind::Mode => "mode",
        }
    }
}

impl std::fmt::Display for ConflictKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ConflictKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [
            ConflictKind::Content,
            ConflictKind::Binary,
            ConflictKind::ModifyDelete,
            ConflictKind::Mode,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| format!("unknown conflict kind {text:?}"))
    }
}

/// A path that both sides changed incompatibly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The conflicting path.
    pub path: FilePath,
    /// What kind of conflict it is.
    pub kind: ConflictKind,
    /// For a content conflict, the file with conflict markers around each
    /// conflicting region, for writing into the work tree on request.
    pub marked: Option<Vec<u8>>,
    /// The file on our side, `None` where our side deleted it.
    pub ours: Option<FileEntry>,
    /// The file on their side, `None` where their side deleted it.
    pub theirs: Option<FileEntry>,
}

/// A merge that stopped on conflicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictedMerge {
    /// Every conflicting path, sorted by path.
    pub conflicts: Vec<Conflict>,
    /// The paths that merged cleanly, sorted by path. Together with the
    /// conflicts they describe the work tree a person resolves.
    pub merged: Vec<MergedFile>,
}

/// The outcome of merging two file lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeMerge {
    /// Every path merged; files are sorted by path.
    Clean(Vec<MergedFile>),
    /// At least one path conflicts.
    Conflicted(ConflictedMerge),
}

/// Merges `ours` and `theirs` against `base` (empty when the two share no
/// history). `load` returns a blob's bytes and is only called for files
/// that both sides changed.
pub fn merge_files<E>(
    base: &[FileEntry],
    ours: &[FileEntry],
    theirs: &[FileEntry],
    mut load: impl FnMut(&ObjectId) -> Result<Vec<u8>, E>,
) -> Result<TreeMerge, E> {
    let mut paths: BTreeMap<&FilePath, [Option<&FileEntry>; 3]> = BTreeMap::new();
    for (side, files) in [base, ours, theirs].into_iter().enumerate() {
        for file in files {
            paths.entry(&file.path).or_default()[side] = Some(file);
        }
    }

    let mut merged = Vec::new();
    let mut conflicts = Vec::new();
    for (path, [base, ours, theirs]) in paths {
        match merge_path(path, base, ours, theirs, &mut load)? {
            PathMerge::Keep(file) => merged.push(file),
            PathMerge::Delete => {}
            PathMerge::Conflict(conflict) => conflicts.push(conflict),
        }
    }
    Ok(if conflicts.is_empty() {
        TreeMerge::Clean(merged)
    } else {
        TreeMerge::Conflicted(ConflictedMerge { conflicts, merged })
    })
}

enum PathMerge {
    Keep(MergedFile),
    Delete,
    Conflict(Conflict),
}

fn same(a: Option<&FileEntry>, b: Option<&FileEntry>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.blob == b.blob && a.mode == b.mode,
        (None, None) => true,
        _ => false,
    }
}

fn keep(entry: Option<&FileEntry>) -> PathMerge {
    match entry {
        Some(file) => PathMerge::Keep(MergedFile {
            path: file.path.clone(),
            mode: file.mode,
            content: MergedContent::Blob {
                id: file.blob,
                size: file.size,
            },
        }),
        None => PathMerge::Delete,
    }
}

fn merge_path<E>(
    path: &FilePath,
    base: Option<&FileEntry>,
    ours: Option<&FileEntry>,
    theirs: Option<&FileEntry>,
    load: &mut impl FnMut(&ObjectId) -> Result<Vec<u8>, E>,
) -> Result<PathMerge, E> {
    if same(ours, theirs) || same(theirs, base) {
        return Ok(keep(ours));
    }
    if same(ours, base) {
        return Ok(keep(theirs));
    }
    let conflict = |kind, marked| {
        PathMerge::Conflict(Conflict {
            path: path.clone(),
            kind,
            marked,
            ours: ours.cloned(),
            theirs: theirs.cloned(),
        })
    };
    let (Some(our_file), Some(their_file)) = (ours, theirs) else {
        return Ok(conflict(ConflictKind::ModifyDelete, None));
    };

    let Some(mode) = merge_mode(base.map(|b| b.mode), our_file.mode, their_file.mode) else {
        return Ok(conflict(ConflictKind::Mode, None));
    };
    // When only one side changed the content, its blob is the result.
    let base_blob = base.map(|b| b.blob);
    let unchanged_side = if base_blob == Some(our_file.blob) {
        Some(their_file)
    } else if our_file.blob == their_file.blob || base_blob == Some(their_file.blob) {
        Some(our_file)
    } else {
        None
    };
    if let Some(file) = unchanged_side {
        return Ok(PathMerge::Keep(MergedFile {
            path: path.clone(),
            mode,
            content: MergedContent::Blob {
                id: file.blob,
                size: file.size,
            },
        }));
    }

    let base_bytes = base.map(|b| load(&b.blob)).transpose()?.unwrap_or_default();
    let our_bytes = load(&our_file.blob)?;
    let their_bytes = load(&their_file.blob)?;
    if [&base_bytes, &our_bytes, &their_bytes]
        .iter()
        .any(|b| is_binary(b))
    {
        return Ok(conflict(ConflictKind::Binary, None));
    }
    Ok(
        match diffy::merge_bytes(&base_bytes, &our_bytes, &their_bytes) {
            Ok(bytes) => PathMerge::Keep(MergedFile {
                path: path.clone(),
                mode,
                content: MergedContent::New(bytes),
            }),
            Err(marked) => conflict(ConflictKind::Content, Some(marked)),
        },
    )
}

/// Merges file modes: the side that changed the mode wins, and two
/// different changes are a conflict (`None`).
fn merge_mode(base: Option<FileMode>, ours: FileMode, theirs: FileMode) -> Option<FileMode> {
    if ours == theirs || Some(theirs) == base {
        Some(ours)
    } else if Some(ours) == base {
        Some(theirs)
    } else {
        None
    }
}

/// Reports whether `bytes` looks binary: a NUL among its first 8000 bytes.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_PROBE_LEN)].contains(&0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::object::Blob;

    struct Files {
        blobs: HashMap<ObjectId, Vec<u8>>,
    }

    impl Files {
        fn new() -> Self {
            Self {
                blobs: HashMap::new(),
            }
        }

        fn entry(&mut self, path: &str, content: &str) -> FileEntry {
            self.entry_with_mode(path, content, FileMode::Regular)
        }

        fn entry_with_mode(&mut self, path: &str, content: &str, mode: FileMode) -> FileEntry {
            let id = Blob::id_of(content.as_bytes());
            self.blobs.insert(id, content.as_bytes().to_vec());
            FileEntry {
                path: path.parse().expect("valid path"),
                mode,
                blob: id,
                size: content.len() as u64,
            }
        }

        fn merge(&self, base: &[FileEntry], ours: &[FileEntry], theirs: &[FileEntry]) -> TreeMerge {
            let load = |id: &ObjectId| -> Result<Vec<u8>, ()> { Ok(self.blobs[id].clone()) };
            merge_files(base, ours, theirs, load).expect("all blobs present")
        }
    }

    fn clean(result: TreeMerge) -> Vec<MergedFile> {
        match result {
            TreeMerge::Clean(files) => files,
            TreeMerge::Conflicted(conflicted) => panic!("unexpected conflicts: {conflicted:?}"),
        }
    }

    fn conflicts(result: TreeMerge) -> Vec<Conflict> {
        match result {
            TreeMerge::Conflicted(conflicted) => conflicted.conflicts,
            TreeMerge::Clean(files) => panic!("expected a conflict, merged {files:?}"),
        }
    }

    #[test]
    fn changes_to_different_files_combine() {
        let mut f = Files::new();
        let base = [f.entry("a.js", "a\n"), f.entry("b.js", "b\n")];
        let ours = [f.entry("a.js", "a2\n"), f.entry("b.js", "b\n")];
        let theirs = [
            f.entry("a.js", "a\n"),
            f.entry("b.js", "b2\n"),
            f.entry("c.js", "c\n"),
        ];
        let files = clean(f.merge(&base, &ours, &theirs));
        let paths: Vec<&str> = files.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["a.js", "b.js", "c.js"]);
        assert_eq!(
            files[0].content,
            MergedContent::Blob {
                id: ours[0].blob,
                size: 3
            }
        );
        assert_eq!(
            files[1].content,
            MergedContent::Blob {
                id: theirs[1].blob,
                size: 3
            }
        );
    }

    #[test]
    fn deletion_on_one_side_applies() {
        let mut f = Files::new();
        let base = [f.entry("a.js", "a\n"), f.entry("b.js", "b\n")];
        let ours = [f.entry("a.js", "a\n")];
        let theirs = base.clone();
        let files = clean(f.merge(&base, &ours, &theirs));
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path.as_str(), "a.js");
    }

    #[test]
    fn distant_line_edits_merge() {
        let mut f = Files::new();
        let base = [f.entry("x.js", "1\n2\n3\n4\n5\n6\n")];
        let ours = [f.entry("x.js", "one\n2\n3\n4\n5\n6\n")];
        let theirs = [f.entry("x.js", "1\n2\n3\n4\n5\nsix\n")];
        let files = clean(f.merge(&base, &ours, &theirs));
        let expected = b"one\n2\n3\n4\n5\nsix\n".to_vec();
        assert_eq!(files[0].content, MergedContent::New(expected));
    }

    #[test]
    fn same_line_edits_conflict_with_markers() {
        let mut f = Files::new();
        let base = [f.entry("x.js", "a\nb\nc\n")];
        let ours = [f.entry("x.js", "a\nB1\nc\n")];
        let theirs = [f.entry("x.js", "a\nB2\nc\n")];
        let found = conflicts(f.merge(&base, &ours, &theirs));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, ConflictKind::Content);
        let marked = String::from_utf8(found[0].marked.clone().expect("markers")).expect("utf8");
        assert!(marked.contains("<<<<<<<"), "{marked}");
        assert!(marked.contains("B1"), "{marked}");
        assert!(marked.contains("B2"), "{marked}");
    }

    #[test]
    fn binary_files_changed_on_both_sides_conflict() {
        let mut f = Files::new();
        let base = [f.entry("img.png", "\0base")];
        let ours = [f.entry("img.png", "\0ours")];
        let theirs = [f.entry("img.png", "\0theirs")];
        let found = conflicts(f.merge(&base, &ours, &theirs));
        assert_eq!(found[0].kind, ConflictKind::Binary);
        assert_eq!(found[0].marked, None);
    }

    #[test]
    fn modify_delete_conflicts() {
        let mut f = Files::new();
        let base = [f.entry("x.js", "a\n")];
        let ours = [f.entry("x.js", "changed\n")];
        let found = conflicts(f.merge(&base, &ours, &[]));
        assert_eq!(found[0].kind, ConflictKind::ModifyDelete);
    }

    #[test]
    fn one_sided_mode_change_kept() {
        let mut f = Files::new();
        let base = [f.entry("run.sh", "1\n2\n3\n")];
        let ours = [f.entry_with_mode("run.sh", "1\n2\n3\n", FileMode::Executable)];
        let theirs = [f.entry("run.sh", "1\n2\nthree\n")];
        let files = clean(f.merge(&base, &ours, &theirs));
        assert_eq!(files[0].mode, FileMode::Executable);
        assert_eq!(
            files[0].content,
            MergedContent::Blob {
                id: theirs[0].blob,
                size: 10
            }
        );
    }

    #[test]
    fn identical_additions_merge() {
        let mut f = Files::new();
        let ours = [f.entry("new.js", "same\n")];
        let theirs = [f.entry("new.js", "same\n")];
        let files = clean(f.merge(&[], &ours, &theirs));
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn conflicted_merge_keeps_clean_paths_and_sides() {
        let mut f = Files::new();
        let base = [f.entry("a.js", "a\n"), f.entry("x.js", "x\n")];
        let ours = [f.entry("a.js", "a\n"), f.entry("x.js", "ours\n")];
        let theirs = [f.entry("a.js", "a2\n"), f.entry("x.js", "theirs\n")];
        let TreeMerge::Conflicted(conflicted) = f.merge(&base, &ours, &theirs) else {
            panic!("expected a conflict");
        };
        let merged: Vec<&str> = conflicted.merged.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(merged, ["a.js"]);
        assert_eq!(conflicted.conflicts[0].path.as_str(), "x.js");
        assert_eq!(conflicted.conflicts[0].ours.as_ref(), Some(&ours[1]));
        assert_eq!(conflicted.conflicts[0].theirs.as_ref(), Some(&theirs[1]));
    }

    #[test]
    fn conflict_kind_text_round_trips() {
        for kind in [
            ConflictKind::Content,
            ConflictKind::Binary,
            ConflictKind::ModifyDelete,
            ConflictKind::Mode,
        ] {
            let json = serde_json::to_string(&kind).expect("serializes");
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(kind.as_str().parse::<ConflictKind>(), Ok(kind));
        }
    }
}
