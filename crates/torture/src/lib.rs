//! Concurrency and crash testing for ferry servers.
//!
//! [`run::run`] starts the real server as a child process, runs many
//! clients through export attempts while [`chaos`] kills and restarts the
//! server, and records every attempt as a [`history::Attempt`]. After the
//! run, [`history::check`] decides from those records alone, plus the final
//! refs and the snap graph, whether any acknowledged export was lost, and
//! [`ferry_server::fsck`] checks what the server stored.

pub mod chaos;
pub mod client;
pub mod history;
mod report;
pub mod run;
pub mod sabotage;
pub mod server;
pub mod verify;
pub mod workload;
