//! Server configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ferry_core::protocol::pack::PackLimits;

/// Everything a server needs to start.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Directory of the embedded stores: objects under `objects/`, metadata
    /// in `ferry.db`.
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// How long an export stays live without a request before it expires.
    pub lease: Duration,
    /// How long after an export ended its objects stay safe from
    /// collection, so a client that still relies on them can finish.
    pub grace: Duration,
    /// How often expiry and collection run in the background.
    pub sweep_interval: Duration,
    /// Size limits of objects, packs and request bodies.
    pub limits: Limits,
}

/// Size limits enforced on every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of one object's encoding, and of its compressed form,
    /// in bytes.
    pub max_object_bytes: u64,
    /// Maximum size of one uploaded pack in bytes.
    pub max_pack_bytes: u64,
    /// Maximum size of a JSON request body in bytes.
    pub max_json_bytes: usize,
    /// Maximum number of ids or ref updates in one request.
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_object_bytes: 100 << 20,
            max_pack_bytes: 4 << 30,
            max_json_bytes: 32 << 20,
            max_items: 200_000,
        }
    }
}

impl Limits {
    /// Returns the limits a pack reader enforces.
    pub fn pack(&self) -> PackLimits {
        PackLimits {
            max_object_bytes: self.max_object_bytes,
            max_pack_bytes: self.max_pack_bytes,
        }
    }
}

impl ServerConfig {
    /// Returns a configuration with default lease, grace, sweep interval
    /// and limits.
    pub fn new(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen,
            lease: Duration::from_secs(15 * 60),
            grace: Duration::from_secs(60 * 60),
            sweep_interval: Duration::from_secs(60),
            limits: Limits::default(),
        }
    }
}
