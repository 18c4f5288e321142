//! The local ferry workspace.
//!
//! A workspace tracks component directories and keeps a local scope in
//! `.ferry/`. Objects live in a file object store. Refs (main heads, tags,
//! lane heads, and what each remote was last seen to hold) live in one
//! SQLite database, together with the workspace's own tables. [`Workspace`] holds
//! every operation; the `ferry` binary only parses arguments, calls one
//! method and renders the result, which is why every report type here is
//! serialisable.
//!
//! [`sync`] exchanges snaps with remote scope servers through the blocking
//! `ferry_client` workflows: export, import, fetch and scope creation.
//!
//! Every command that changes refs writes its objects first, flushes the
//! object store, and then applies all ref and table changes in one SQLite
//! transaction, so a failing or killed command leaves no half-made state.
//! `ferry import` is the exception: it checks out directories after its
//! ref changes, as [`sync::import`] describes.

pub mod add;
pub mod author;
pub mod checkout;
pub mod config;
pub mod diff;
pub mod error;
pub mod hashing;
pub mod lane;
pub mod log;
pub mod meta;
pub mod pending;
pub mod reconcile;
pub mod remote;
pub mod resolve;
pub mod scan;
pub mod snap;
pub mod stat_cache;
pub mod status;
pub mod sync;
pub mod tag;
pub mod version;
pub mod workspace;

pub use error::{Error, Result};
pub use version::{Bump, VersionRequest};
pub use workspace::Workspace;
