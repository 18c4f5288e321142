//! Integrity check of an object store and the refs that point into it.
//!
//! [`check`] reads every stored object, which verifies its digest and its
//! encoding. Then it walks the closure of every ref. Each snap must exist,
//! belong to the ref's component and carry the right generation, and every
//! parent and blob it names must be present, blobs with the recorded size. It
//! only reads, so it is safe to run beside a live server or workspace; an
//! object written during the run may then be reported missing, and a
//! second run tells a race from real damage.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use ferry_core::{Object, ObjectId, ObjectKind, RefName, Snap};
use serde::Serialize;

use crate::objects::{FsObjectStore, ObjectStore, ObjectStoreError};
use crate::refs::{RefStore, SqliteStore, StoreError};

/// One integrity problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Problem {
    /// A stored object does not decode or does not match its id.
    Corrupt {
        /// The damaged object.
        id: ObjectId,
        /// The verification failure.
        detail: String,
    },
    /// An object that a ref's closure needs is not stored.
    Missing {
        /// The absent object.
        id: ObjectId,
        /// The ref whose closure needs it.
        needed_by: RefName,
    },
    /// An object has the wrong kind for where it is referenced.
    WrongKind {
        /// The object.
        id: ObjectId,
        /// The kind its position requires.
        expected: ObjectKind,
        /// The ref whose closure contains it.
        needed_by: RefName,
    },
    /// A ref points at a snap of another component.
    WrongComponent {
        /// The ref.
        name: RefName,
        /// The snap it points at.
        snap: ObjectId,
    },
    /// A snap's generation is not one more than its largest parent's.
    WrongGeneration {
        /// The snap.
        snap: ObjectId,
        /// The generation it carries.
        stored: u64,
        /// The generation its parents imply.
        expected: u64,
    },
    /// A file's blob has a different size than the snap records.
    WrongSize {
        /// The snap listing the file.
        snap: ObjectId,
        /// The file's path.
        path: String,
        /// The size the snap records.
        recorded: u64,
        /// The blob's actual size.
        actual: u64,
    },
}

/// Counts of what a check covered, and the problems it found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Objects read and verified.
    pub objects: usize,
    /// Refs whose closure was walked.
    pub refs: usize,
    /// Distinct snaps reached from those refs.
    pub snaps: usize,
    /// Everything wrong, in the order found.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Reports whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Failures that stop a check before it finishes.
#[derive(Debug, thiserror::Error)]
pub enum FsckError {
    /// The object store could not be listed or read.
    #[error(transparent)]
    Objects(#[from] ObjectStoreError),
    /// The ref store could not be read.
    #[error(transparent)]
    Refs(#[from] StoreError),
    /// The directory holds no metadata database, so it is not a store.
    #[error("{path} not found; expected the metadata database of a ferry store there")]
    NotAStore {
        /// The database file that is missing.
        path: PathBuf,
    },
}

/// The facts the object pass keeps about one stored object.
enum Seen {
    Blob { size: u64 },
    Snap(Box<Snap>),
}

/// Checks every object in `objects` and the closure of every ref in each of
/// `namespaces` of `refs`.
pub fn check(
    objects: &dyn ObjectStore,
    refs: &dyn RefStore,
    namespaces: &[&str],
) -> Result<Report, FsckError> {
    let mut report = Report::default();
    let seen = read_all(objects, &mut report)?;
    let mut walked = HashSet::new();
    for namespace in namespaces {
        for (name, head) in refs.list_refs(namespace, "")? {
            report.refs += 1;
            walk_ref(&seen, &name, head, &mut walked, &mut report);
        }
    }
    report.snaps = walked.len();
    Ok(report)
}

/// Checks the local scope of a workspace whose metadata directory is
/// `ferry_dir` (usually `.ferry`): the objects in `objects/` and the refs
/// in `ferry.db`, both the workspace's own (namespace `""`) and what each
/// remote was last seen to hold (namespaces `remote/NAME`).
pub fn check_workspace(ferry_dir: &Path) -> Result<Report, FsckError> {
    let db_path = ferry_dir.join("ferry.db");
    if !db_path.is_file() {
        return Err(FsckError::NotAStore { path: db_path });
    }
    let objects = FsObjectStore::open(ferry_dir.join("objects"))?;
    let refs = SqliteStore::open(&db_path)?;
    let mut namespaces = vec![String::new()];
    for namespace in refs.namespaces()? {
        if namespace.starts_with("remote/") {
            namespaces.push(namespace);
        }
    }
    let namespaces: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    check(&objects, &refs, &namespaces)
}

fn read_all(
    objects: &dyn ObjectStore,
    report: &mut Report,
) -> Result<HashMap<ObjectId, Seen>, FsckError> {
    let mut seen = HashMap::new();
    for id in objects.list()? {
        report.objects += 1;
        match objects.read(&id) {
            Ok(Object::Blob(blob)) => {
                let size = blob.data.len() as u64;
                seen.insert(id, Seen::Blob { size });
            }
            Ok(Object::Snap(snap)) => {
                seen.insert(id, Seen::Snap(Box::new(snap)));
            }
            Err(error @ ObjectStoreError::Corrupt { .. }) => {
                report.problems.push(Problem::Corrupt {
                    id,
                    detail: format!("{:#}", DisplayChain(&error)),
                });
            }
            // Removed between listing and reading: a concurrent cleanup.
            Err(ObjectStoreError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(seen)
}

fn walk_ref(
    seen: &HashMap<ObjectId, Seen>,
    name: &RefName,
    head: ObjectId,
    walked: &mut HashSet<ObjectId>,
    report: &mut Report,
) {
    match seen.get(&head) {
        Some(Seen::Snap(snap)) if &snap.component != name.component() => {
            report.problems.push(Problem::WrongComponent {
                name: name.clone(),
                snap: head,
            });
        }
        _ => {}
    }
    let mut stack = vec![head];
    while let Some(id) = stack.pop() {
        if !walked.insert(id) {
            continue;
        }
        let snap = match seen.get(&id) {
            Some(Seen::Snap(snap)) => snap,
            Some(Seen::Blob { .. }) => {
                report.problems.push(Problem::WrongKind {
                    id,
                    expected: ObjectKind::Snap,
                    needed_by: name.clone(),
                });
                continue;
            }
            None => {
                report.problems.push(Problem::Missing {
                    id,
                    needed_by: name.clone(),
                });
                continue;
            }
        };
        check_generation(seen, id, snap, report);
        check_files(seen, name, id, snap, report);
        stack.extend(snap.parents.iter().copied());
    }
}

fn check_generation(
    seen: &HashMap<ObjectId, Seen>,
    id: ObjectId,
    snap: &Snap,
    report: &mut Report,
) {
    let parent_generations: Option<Vec<u64>> = snap
        .parents
        .iter()
        .map(|parent| match seen.get(parent) {
            Some(Seen::Snap(parent)) => Some(parent.generation),
            _ => None,
        })
        .collect();
    // A missing parent is reported by the walk; its generation is unknown.
    let Some(parent_generations) = parent_generations else {
        return;
    };
    let expected = Snap::generation_after(parent_generations);
    if snap.generation != expected {
        report.problems.push(Problem::WrongGeneration {
            snap: id,
            stored: snap.generation,
            expected,
        });
    }
}

fn check_files(
    seen: &HashMap<ObjectId, Seen>,
    name: &RefName,
    id: ObjectId,
    snap: &Snap,
    report: &mut Report,
) {
    for file in &snap.files {
        match seen.get(&file.blob) {
            Some(Seen::Blob { size }) if *size != file.size => {
                report.problems.push(Problem::WrongSize {
                    snap: id,
                    path: file.path.to_string(),
                    recorded: file.size,
                    actual: *size,
                });
            }
            Some(Seen::Blob { .. }) => {}
            Some(Seen::Snap(_)) => report.problems.push(Problem::WrongKind {
                id: file.blob,
                expected: ObjectKind::Blob,
                needed_by: name.clone(),
            }),
            None => report.problems.push(Problem::Missing {
                id: file.blob,
                needed_by: name.clone(),
            }),
        }
    }
}

/// Formats an error with its chain of sources.
struct DisplayChain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}
