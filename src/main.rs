//! The `drillbook` binary: parse the command line, run the command, map failures to exit codes.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = drillbook::cli::Cli::parse();
    match drillbook::cmd::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let message = f.to_string();
            if !message.is_empty() {
                drillbook::out::eprintln(&message);
            }
            ExitCode::from(f.code())
        }
    }
}
