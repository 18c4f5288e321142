//! A scope server for process-level tests: `ferry-test-server DATA_DIR
//! [LISTEN_ADDR]`. It prints `listening on ADDR` once bound, so a test can
//! start it on port 0, learn the port, and kill it at any moment.

use std::io::Write;
use std::net::SocketAddr;

use ferry_server::{Server, ServerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let data_dir = args
        .next()
        .ok_or("usage: ferry-test-server DATA_DIR [LISTEN_ADDR]")?;
    let listen: SocketAddr = args.next().as_deref().unwrap_or("127.0.0.1:0").parse()?;

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let server = Server::bind(ServerConfig::new(data_dir, listen)).await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on {}", server.local_addr()?)?;
        stdout.flush()?;
        server.run_until(ferry_server::shutdown_signal()).await?;
        Ok(())
    })
}
