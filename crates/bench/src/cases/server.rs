//! A `ferry serve` process on a loopback port, killed when dropped.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};

use anyhow::{bail, Context as _, Result};

use crate::memory::peak_of;
use crate::tools::{describe, Tools};

/// A running `ferry serve`.
pub struct FerryServer {
    child: Child,
    url: String,
    /// Kept open so the server never writes to a closed pipe.
    stdout: BufReader<ChildStdout>,
}

impl FerryServer {
    /// Starts `ferry serve` on the data directory `data` and a free
    /// loopback port, and returns once it listens. Its log goes to
    /// `data.log` beside `data`.
    pub fn start(tools: &Tools, data: &Path) -> Result<Self> {
        let log_path = data.with_extension("log");
        let log = File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = tools.ferry_command(data.parent().unwrap_or(data));
        command
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", describe(&command)))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut server = Self {
            child,
            url: String::new(),
            stdout: BufReader::new(stdout),
        };
        server.url = server.read_url(&log_path)?;
        Ok(server)
    }

    /// Reads the `listening on URL` line that the server prints once it
    /// is bound. The server exits instead when it cannot start, which
    /// ends the output.
    fn read_url(&mut self, log_path: &Path) -> Result<String> {
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        match line.trim().strip_prefix("listening on ") {
            Some(url) => Ok(url.to_owned()),
            None => bail!(
                "ferry serve printed {:?} instead of its address; see {}",
                line.trim(),
                log_path.display()
            ),
        }
    }

    /// Returns the server's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the server and returns its peak resident memory in bytes.
    pub fn stop(mut self) -> Result<Option<u64>> {
        let peak = peak_of(self.child.id());
        self.kill();
        Ok(peak)
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
