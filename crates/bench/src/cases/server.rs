//! A `ferry serve` process on a loopback port, killed when dropped.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use crate::memory::peak_of;
use crate::tools::{describe, Tools};

/// Time a server may take to accept connections after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `ferry serve`.
pub struct FerryServer {
    child: Child,
    addr: SocketAddr,
}

impl FerryServer {
    /// Starts `ferry serve` on the data directory `data` and a free
    /// loopback port, and waits until it accepts connections. Its log goes
    /// to `data.log` beside `data`.
    pub fn start(tools: &Tools, data: &Path) -> Result<Self> {
        let addr = free_loopback_addr()?;
        let log_path = data.with_extension("log");
        let log = File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = tools.ferry_command(data.parent().unwrap_or(data));
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(data)
            .arg("--listen")
            .arg(addr.to_string())
            .stdout(Stdio::null())
            .stderr(log);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", describe(&command)))?;
        let mut server = Self { child, addr };
        server.wait_until_listening()?;
        Ok(server)
    }

    /// Returns the server's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and returns its peak resident memory in bytes.
    pub fn stop(mut self) -> Result<Option<u64>> {
        let peak = peak_of(self.child.id());
        self.kill();
        Ok(peak)
    }

    fn wait_until_listening(&mut self) -> Result<()> {
        let started = Instant::now();
        while TcpStream::connect(self.addr).is_err() {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "ferry serve exited with {status} before listening on {}",
                    self.addr
                );
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "ferry serve did not listen on {} within {START_TIMEOUT:?}",
                    self.addr
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn kill(&mut self) {
        // The server may have exited already; either way it is gone after
        // the wait.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FerryServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Returns a loopback address whose port was free a moment ago.
fn free_loopback_addr() -> Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("cannot bind a loopback port to find a free one")?;
    Ok(listener.local_addr()?)
}
