//! Switchboard's runtime: the command-line interface and, in later
//! versions, the listeners and the task that drives the bridge. The
//! protocol logic lives in the sans-IO crates under `protocols/`.

#![warn(missing_docs)]

pub mod cli;
