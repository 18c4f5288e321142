//! A `ferry serve` child process on a loopback port, with its data in a
//! temporary directory unless a test passes its own.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

/// A running `ferry serve`, killed by process id when dropped.
pub struct Serve {
    child: Child,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Serve {
    /// Starts a server on a free port with data in a new temporary
    /// directory.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("create tempdir");
        let mut serve = Self::start_on(dir.path(), "127.0.0.1:0", &[]);
        serve._dir = Some(dir);
        serve
    }

    /// Starts a server on `listen` with data in `data` and extra
    /// environment variables `env`.
    pub fn start_on(data: &Path, listen: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
        command
            .args(["serve", "--listen", listen, "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start ferry serve");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the first line of ferry serve");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("ferry serve printed {line:?} instead of its address"))
            .to_owned();
        Self {
            child,
            url,
            _dir: None,
        }
    }

    /// Returns the base URL, such as `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    #[cfg_attr(
        not(feature = "failpoints"),
        allow(dead_code, reason = "only the crash tests restart a server")
    )]
    /// Returns the listen address, such as `127.0.0.1:41234`.
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    #[cfg_attr(
        not(feature = "failpoints"),
        allow(dead_code, reason = "only the crash tests wait for a server to die")
    )]
    /// Waits until the server exits on its own and returns its status.
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("wait for ferry serve")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns a loopback URL where no server listens: a port the system
/// handed out and that was closed again.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}")
}
