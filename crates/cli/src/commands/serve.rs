//! `ferry serve`: runs a scope server on the embedded stores.
//!
//! This is the only command with an async runtime: the server needs one,
//! and every other command uses blocking calls.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use ferry_server::{Server, ServerConfig, ServerError};
use tracing_subscriber::EnvFilter;

use super::Invocation;
use crate::failure::UserError;

/// Arguments of `ferry serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of the server's objects and metadata database; created
    /// when missing.
    #[arg(long, value_name = "DIR", default_value = "ferry-data")]
    data: PathBuf,
    /// Address and port to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Seconds an export stays open without a request before it expires.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    lease: u64,
    /// Maximum size of one object in bytes [default: 100 MiB].
    #[arg(long, value_name = "N")]
    max_object_bytes: Option<u64>,
    /// Maximum size of one uploaded pack in bytes [default: 4 GiB].
    #[arg(long, value_name = "N")]
    max_pack_bytes: Option<u64>,
    /// Log format on stderr. The RUST_LOG variable sets the filter, such
    /// as `info` (the default) or `ferry_server=debug`.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "human")]
    log_format: LogFormat,
}

/// The format of log events.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per event.
    Json,
}

/// Runs `ferry serve` until Ctrl-C or SIGTERM.
pub fn run(invocation: &Invocation, args: Args) -> anyhow::Result<()> {
    init_logging(args.log_format)?;
    let config = server_config(invocation, &args);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(serve(config))
}

fn server_config(invocation: &Invocation, args: &Args) -> ServerConfig {
    let mut config = ServerConfig::new(invocation.resolve(&args.data), args.listen);
    config.lease = Duration::from_secs(args.lease);
    if let Some(bytes) = args.max_object_bytes {
        config.limits.max_object_bytes = bytes;
    }
    if let Some(bytes) = args.max_pack_bytes {
        config.limits.max_pack_bytes = bytes;
    }
    config
}

fn init_logging(format: LogFormat) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!(error).context("installing the logger"))
}

/// Binds, prints the address on stdout so that scripts can read the port,
/// and serves.
async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let server = Server::bind(config).await.map_err(start_error)?;
    let addr = server.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on http://{addr}").context("writing to stdout")?;
    stdout.flush().context("writing to stdout")?;
    server.run_until(ferry_server::shutdown_signal()).await?;
    Ok(())
}

/// Turns the start failures a user can fix into [`UserError`]s.
fn start_error(error: ServerError) -> anyhow::Error {
    match error {
        ServerError::Bind { addr, source } => UserError {
            message: format!("cannot listen on {addr}: {source}"),
            hint: "pass --listen with a free address and port, such as 127.0.0.1:0".to_owned(),
        }
        .into(),
        ServerError::DataDir { path, source } => UserError {
            message: format!("cannot create data directory {}: {source}", path.display()),
            hint: "pass --data with a writable directory".to_owned(),
        }
        .into(),
        other => anyhow::Error::new(other),
    }
}
