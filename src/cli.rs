//! Command-line interface.

use std::io::Read;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Switchboard: a signaling gateway between WebRTC browsers, SIP and XMPP Jingle.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse a session description (SDP) and print it back, or as JSON.
    ///
    /// Exits with status 1 and one `error:` line naming the line number when
    /// the description is invalid.
    Sdp {
        /// Print the parsed model as JSON, with every candidate's fields broken out.
        #[arg(long)]
        json: bool,
        /// The SDP file, or `-` for standard input.
        file: PathBuf,
    },
}

/// Reads `path`, or standard input for `-`.
fn read_input(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}

/// Runs the `sdp` subcommand: the text to print, or the one-line error.
pub fn sdp_command(path: &std::path::Path, json: bool) -> Result<String, String> {
    let input = read_input(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let desc = switchboard_sdp::SessionDescription::parse_bytes(&input).map_err(|e| e.to_string())?;
    if json {
        serde_json::to_string_pretty(&desc)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| e.to_string())
    } else {
        Ok(desc.to_sdp())
    }
}
