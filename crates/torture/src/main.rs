//! `ferry-torture`: runs many concurrent exports against a ferry server
//! that is killed and restarted throughout, then checks that no
//! acknowledged export was lost and that nothing is left broken or stuck.
//!
//! `ferry-torture run` prints every figure and exits with status 1 when a
//! check found a violation, 2 when the run itself failed. `ferry-torture
//! serve` is the server process the run starts and kills.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use ferry_torture::chaos::ChaosConfig;
use ferry_torture::run::{run, RunConfig};
use ferry_torture::server::{serve, ServeOptions};

#[derive(Parser)]
#[command(version, about = "Concurrency and crash test of the ferry server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the torture test and checks the result.
    Run(RunArgs),
    /// Runs the server under test; the run starts and kills this process.
    #[command(hide = true)]
    Serve(ServeArgs),
}

#[derive(Args)]
struct RunArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: u32,
    /// Export attempts in all, across clients.
    #[arg(long, default_value_t = 2000)]
    attempts: u32,
    /// Server instances sharing the data directory, as behind a load
    /// balancer; clients are spread over them.
    #[arg(long, default_value_t = 1)]
    servers: u32,
    /// Interval of the extra collections a thread requests through the
    /// admin endpoint beside the background sweeps, in milliseconds; 0
    /// requests none.
    #[arg(long, default_value_t = 1000)]
    collect_every_ms: u64,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory for the server data, its log and the attempt records
    /// (attempts.jsonl); must be new or empty. Defaults to a new directory
    /// under the system's temporary directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Mean time between server kills, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    kill_every_ms: u64,
    /// Runs without killing the server at all.
    #[arg(long)]
    no_kills: bool,
    /// Kills only at random moments, never at failpoints.
    #[arg(long)]
    no_failpoints: bool,
    /// Export lease of the server, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    lease_ms: u64,
    /// Grace window before objects of ended exports are collected, in
    /// milliseconds.
    #[arg(long, default_value_t = 1000)]
    grace_ms: u64,
    /// Interval of the server's expiry and collection sweep, in
    /// milliseconds.
    #[arg(long, default_value_t = 500)]
    sweep_ms: u64,
    /// Prints the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ServeArgs {
    /// The data directory.
    #[arg(long)]
    data: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Export lease, in milliseconds.
    #[arg(long)]
    lease_ms: u64,
    /// Collection grace window, in milliseconds.
    #[arg(long)]
    grace_ms: u64,
    /// Sweep interval, in milliseconds.
    #[arg(long)]
    sweep_ms: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run_command(args),
        Command::Serve(args) => serve_command(args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run_command(args: RunArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let out_dir = match args.out {
        Some(dir) => dir,
        None => default_out_dir(),
    };
    let chaos = (!args.no_kills).then(|| ChaosConfig {
        interval: Duration::from_millis(args.kill_every_ms),
        failpoints: !args.no_failpoints,
    });
    let config = RunConfig {
        clients: args.clients,
        attempts: args.attempts,
        servers: args.servers,
        collect_every: (args.collect_every_ms > 0)
            .then(|| Duration::from_millis(args.collect_every_ms)),
        seed: args.seed,
        out_dir,
        server_exe: std::env::current_exe().context("cannot locate the torture binary")?,
        chaos,
        lease: Duration::from_millis(args.lease_ms),
        grace: Duration::from_millis(args.grace_ms),
        sweep: Duration::from_millis(args.sweep_ms),
        sabotage: None,
    };
    let report = run(&config).context("the torture run failed")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn default_out_dir() -> PathBuf {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or_default();
    std::env::temp_dir().join(format!("ferry-torture-{seconds}-{}", std::process::id()))
}

fn serve_command(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    serve(ServeOptions {
        data_dir: args.data,
        listen: args.listen,
        lease: Duration::from_millis(args.lease_ms),
        grace: Duration::from_millis(args.grace_ms),
        sweep: Duration::from_millis(args.sweep_ms),
    })
    .context("the server failed")
}
