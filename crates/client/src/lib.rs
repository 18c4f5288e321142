//! The client side of ferry's export protocol.
//!
//! [`RemoteClient`] calls each endpoint of a scope server. The workflows
//! work against the store traits, so they run for any local scope:
//! [`export()`] pushes refs with their closures and returns a report per
//! ref; [`fetch()`] and [`import()`] bring remote refs and their objects
//! into a local store; [`land()`] repeats an export, reconciling after each
//! diverged rejection, until it commits. Progress goes to a [`Progress`]
//! the caller draws.

pub mod export;
pub mod fetch;
pub mod landing;
pub mod progress;
pub mod refs;
pub mod remote;

pub use export::{export, ExportError, ExportReport, ExportRequest, RefPush, RefReport, RefStatus};
pub use fetch::{
    fetch, import, FetchError, FetchReport, FetchRequest, ImportReport, ImportStatus, RefSelection,
};
pub use landing::{land, Attempt, Landing, LandingEnd, LandingPolicy, Reconciled};
pub use progress::{NoProgress, Phase, Progress};
pub use refs::remote_namespace;
pub use remote::{RemoteClient, RemoteError, RetryPolicy};
