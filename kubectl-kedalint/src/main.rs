//! `kubectl-kedalint`: kubectl finds this binary on PATH and runs it as `kubectl kedalint`.

use clap::{CommandFactory, FromArgMatches};
use kubectl_kedalint::cli::{Cli, Command};
use kubectl_kedalint::{generate, run};

fn main() {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let result = match &cli.command {
        None => run::lint(&cli.lint, Some(&matches)),
        Some(Command::Lint(args)) => run::lint(args, matches.subcommand_matches("lint")),
        Some(Command::Replay(args)) => kubectl_kedalint::replay::run(args),
        Some(Command::Rules) => {
            print!("{}", run::rules_table());
            Ok(run::EXIT_OK)
        }
        Some(Command::Explain { rule }) => run::explain(rule).map(|page| {
            print!("{page}");
            run::EXIT_OK
        }),
        Some(Command::Lsp) => kubectl_kedalint::lsp::run(),
        Some(Command::Completions { shell }) => {
            write_stdout(&generate::completions(*shell));
            Ok(run::EXIT_OK)
        }
        Some(Command::Man) => generate::man()
            .map(|page| {
                write_stdout(&page);
                run::EXIT_OK
            })
            .map_err(|source| kubectl_kedalint::Error::Write {
                path: "<stdout>".to_owned(),
                source,
            }),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("kubectl-kedalint: error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            std::process::exit(run::EXIT_ERROR);
        }
    }
}

fn write_stdout(bytes: &[u8]) {
    use std::io::Write;
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = std::io::stdout().lock().write_all(bytes);
}
