//! The `switchboard` binary.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use switchboard::cli::{Cli, Command, convert_command, sdp_command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sdp { json, file } => match sdp_command(&file, json) {
            Ok(out) => {
                let mut stdout = std::io::stdout().lock();
                // A closed pipe (`| head`) is not an error worth reporting.
                let _ = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::Convert { to, file } => match convert_command(&file, &to) {
            Ok(out) => {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::Serve(args) => {
            let config = match args.to_config() {
                Ok(config) => config,
                Err(e) => return fail(&e),
            };
            init_logging(config.log_json);
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if let Some(n) = args.threads {
                builder.worker_threads(usize::from(n));
            }
            let runtime = match builder.enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("starting the runtime: {e}")),
            };
            match runtime.block_on(switchboard::runtime::serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
