//! Shell completions and the man page, generated from the clap definitions so they never drift
//! from the real flags.

use clap::CommandFactory;

use crate::cli::Cli;

/// The name the scripts and the man page use: the binary kubectl runs.
const BIN: &str = "kubectl-kedalint";

/// The completion script for `shell`.
#[must_use]
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command().name(BIN).bin_name(BIN);
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut out);
    out
}

/// The man page, in roff.
///
/// # Errors
/// Never in practice: rendering writes to memory.
pub fn man() -> std::io::Result<Vec<u8>> {
    let cmd = Cli::command().name(BIN).bin_name(BIN);
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    Ok(out)
}
