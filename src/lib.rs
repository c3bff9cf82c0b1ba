//! Switchboard's runtime: the command-line interface, the configuration and
//! the server (listeners and connection tasks around the sans-IO protocol
//! crates under `protocols/`).

#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod convert;
pub mod runtime;
