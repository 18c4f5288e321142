//! The object model of ferry, free of I/O.
//!
//! Everything that two ferry processes must agree on byte for byte lives
//! here: object ids and their encoding, the rules for names and paths, ref
//! names, and the ancestry algorithms that decide fast-forwards and merge
//! bases. Storage and networking build on these types and never re-check
//! what a constructor here has already validated.

pub mod ancestry;
pub mod compression;
pub mod id;
pub mod merge;
pub mod name;
pub mod object;
pub mod path;
pub mod protocol;
pub mod refname;

pub use id::ObjectId;
pub use name::{ComponentId, LaneId, NameError, ScopeName};
pub use object::{Blob, Dependency, FileEntry, FileMode, Object, ObjectKind, Snap};
pub use path::{FilePath, PathError};
pub use refname::RefName;
