//! The `orb` command line: serve, migrate, print the schema, create accounts.

use std::io::{IsTerminal, Read};

use clap::{Parser, Subcommand};
use orb_domain::access::Principal;
use orb_domain::ids::{CountyId, UserId};
use orb_domain::people::{AnyRole, Email, Password, display_name};
use orb_store::{counties, people};

use crate::config::Settings;
use crate::startup::{Application, StartOptions, prepare_store};
use crate::{database, telemetry};

/// orb: Organizational Readiness Building for California's child welfare counties.
#[derive(Parser)]
#[command(name = "orb", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (applies pending migrations first unless --no-migrate).
    Serve {
        /// Also load the demo data if absent, and print the demo accounts.
        #[arg(long)]
        demo: bool,
        /// Do not create the database or apply migrations.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Create the database if missing and apply pending migrations.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account with a role; the password is read from stdin or prompted for.
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
        /// staff, lead, faculty or admin.
        #[arg(long)]
        role: String,
        /// The county (slug) for staff and lead.
        #[arg(long)]
        county: Option<String>,
        /// Name shown to colleagues (defaults to the email).
        #[arg(long)]
        name: Option<String>,
    },
}

/// Runs the command line and returns the process exit code.
pub async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::Schema = cli.command {
        print!("{}", orb_graphql::sdl());
        return std::process::ExitCode::SUCCESS;
    }
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("orb: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(&settings);
    let code = match run(cli.command, settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "orb stopped with an error");
            eprintln!("orb: {err:#}");
            std::process::ExitCode::FAILURE
        }
    };
    // Off the runtime's threads: the exporter's last send blocks.
    let _ = tokio::task::spawn_blocking(telemetry::flush).await;
    code
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Schema => Ok(()),
        Command::Migrate => {
            database::ensure_database(&settings.database_url).await?;
            database::migrate(&settings.database_url).await.map_err(Into::into)
        }
        Command::Serve { demo, no_migrate } => {
            let bind = settings.bind.clone();
            let app = Application::build(settings, StartOptions { migrate: !no_migrate, demo }).await?;
            if let Some(summary) = app.demo() {
                let password_source = if std::env::var("ORB_DEMO_PASSWORD").is_ok() {
                    "the password in ORB_DEMO_PASSWORD".to_owned()
                } else {
                    format!("password `{}`", crate::demo::DEFAULT_DEMO_PASSWORD)
                };
                println!("orb demo accounts ({password_source}):");
                for account in &summary.accounts {
                    println!("  {:<36} {}", account.email, account.role);
                }
                println!(
                    "orb demo survey \"{}\" is open (startResponse with a code, no account):",
                    summary.survey.title
                );
                println!("  open link code:   {}", summary.survey.open_link_code);
                println!("  invitation codes: {}", summary.survey.invitation_codes.join("  "));
                println!("orb demo waves (closed, results released):");
                for wave in &summary.waves {
                    println!("  {wave}");
                }
            }
            println!("orb serving on http://{bind} (GraphQL at /graphql)");
            tracing::info!(address = %bind, "serving");
            app.run_until_stopped().await?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::User { action: UserCommand::Create { email, role, county, name } } => {
            let password = read_password()?;
            let created = create_user(&settings, &email, &role, county.as_deref(), name.as_deref(), &password).await?;
            println!("created {email} ({created})");
            Ok(())
        }
    }
}

/// `orb user create`: an account with one role, made by the operator's own tool (no account
/// needed). Applies pending migrations first.
pub async fn create_user(
    settings: &Settings,
    email: &str,
    role: &str,
    county: Option<&str>,
    name: Option<&str>,
    password: &str,
) -> anyhow::Result<UserId> {
    let email = Email::parse("--email", email)?;
    let role = AnyRole::parse("--role", role)?;
    let display = display_name("--name", name.unwrap_or(email.as_str()))?;
    if matches!(role, AnyRole::County(_)) != county.is_some() {
        anyhow::bail!("--county is required for staff and lead, and not allowed for faculty and admin");
    }
    let password = Password::parse("password", password, email.as_str())?;
    let store = prepare_store(settings, true).await?;
    let lookup = store.begin_system(Vec::new()).await?;
    let county_id = match county {
        Some(slug) => Some(CountyId(
            counties::by_slug(&lookup, slug).await?.ok_or_else(|| anyhow::anyhow!("no county has slug {slug}"))?.id,
        )),
        None => None,
    };
    drop(lookup);
    let session = store.begin_system(county_id.into_iter().collect()).await?;
    let principal: &Principal = session.principal();
    let operator = principal.as_operator()?;
    let hash = tokio::task::spawn_blocking(move || password.hash()).await?;
    let change = session.change().await?;
    let user = people::create_user(
        &change,
        &operator,
        people::NewUser { email: email.clone(), display_name: display, password_hash: hash },
    )
    .await?;
    let user_id = UserId(user.id);
    match (role, county_id) {
        (AnyRole::Global(global), _) => people::grant_global_role(&change, &operator, user_id, global).await?,
        (AnyRole::County(county_role), Some(county_id)) => {
            let manager = principal.as_membership_manager(county_id)?;
            people::grant_membership(&change, &manager, user_id, county_role).await?;
        }
        (AnyRole::County(_), None) => anyhow::bail!("--county is required for staff and lead"),
    }
    change.commit().await?;
    session.commit().await?;
    store.close().await?;
    Ok(user_id)
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let second = rpassword::prompt_password("again: ")?;
        anyhow::ensure!(first == second, "the passwords differ");
        Ok(first)
    } else {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input)?;
        Ok(input.lines().next().unwrap_or_default().to_owned())
    }
}
