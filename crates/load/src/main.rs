//! `orb-load`: the state-scale benchmark. `orb-load all` runs it whole and prints the table.

use clap::{Parser, Subcommand};
use orb_load::{generator, run};

/// The state-scale benchmark of orb.
#[derive(Parser)]
#[command(name = "orb-load", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything: scratch database, orb, the state, every scenario, ceiling and peer, one table.
    All(run::Options),
    /// Generate the state into a database that orb has migrated and loaded the demo into.
    Seed {
        /// The database, as its owner.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// Seed of the generated state.
        #[arg(long, default_value_t = 2017)]
        seed: u64,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let outcome = match Cli::parse().command {
        Command::All(options) => run::all(&options).await,
        Command::Seed { database_url, seed } => seed_only(&database_url, seed).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("orb-load: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn seed_only(url: &str, seed: u64) -> anyhow::Result<()> {
    let db = sea_orm::Database::connect(url).await?;
    let state = generator::seed(&db, &generator::Plan { seed, ..Default::default() }).await?;
    println!(
        "generated {} counties, {} released waves, {} submitted responses",
        state.counties, state.released_waves, state.responses
    );
    Ok(())
}
