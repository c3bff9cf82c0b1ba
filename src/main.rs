//! The `switchboard` binary.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use switchboard::cli::{Cli, Command, sdp_command};

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
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
    }
}
