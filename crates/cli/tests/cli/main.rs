//! Integration tests driving the real `ferry` binary in temporary
//! workspaces. Every module is part of one test binary, so the binary and its
//! dependencies are linked once.

mod add;
mod checkout;
mod config;
mod corpus;
mod corpus_remote;
#[cfg(feature = "failpoints")]
mod crash;
mod export;
mod fsck;
mod import;
mod init;
mod land;
mod lane;
mod log;
mod remote;
mod resume;
mod serve;
mod server;
mod snap;
mod status;
mod support;
mod tag;
