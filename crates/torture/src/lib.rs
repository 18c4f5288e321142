//! Concurrency and crash testing for ferry servers.
//!
//! A run records every export attempt as an [`history::Attempt`]; after the
//! run, [`history::check`] decides from those records alone, plus the final
//! refs and the snap graph, whether any acknowledged export was lost.

pub mod history;
