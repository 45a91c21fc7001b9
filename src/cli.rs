//! The command line: `serve` (the default), `migrate`, `create-admin`, `openapi`, `seed-demo`.

use std::io::{BufRead, IsTerminal};
use std::net::TcpListener;

use clap::Parser;

use crate::config::{Cli, Command, LogFormat, Settings};
use crate::domain::users;
use crate::http::{AppState, Application};
use crate::storage::Database;

pub fn run() -> anyhow::Result<()> {
    // A missing .env file is normal; a broken one is worth a word.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("warning: .env not read: {e}");
        }
    }
    let cli = Cli::parse();
    init_logging(cli.settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(serve(cli.settings)),
        Command::Migrate => {
            let db = open_database(&cli.settings)?;
            println!("database is up to date ({})", cli.settings.database_target().redacted());
            drop(db);
            Ok(())
        }
        Command::CreateAdmin { email, display_name } => {
            let db = open_database(&cli.settings)?;
            let password = read_password()?;
            let user = users::create_admin(&db, &email, &display_name, &password)
                .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
            println!("created admin {} ({})", user.email, user.id);
            Ok(())
        }
        Command::Openapi => {
            print!("{}", crate::http::openapi::document());
            Ok(())
        }
        Command::SeedDemo { kits, years, seed, password } => {
            let db = open_database(&cli.settings)?;
            seed_demo(&db, kits, years, seed, password)
        }
    }
}

/// Fills the database with demo data and tells how to sign in.
fn seed_demo(db: &Database, kits: u64, years: u32, seed: u64, password: Option<String>) -> anyhow::Result<()> {
    let generated = password.is_none();
    let password = password.unwrap_or_else(crate::seed::random_password);
    let options = crate::seed::SeedOptions { kits, years, seed, password: password.clone(), progress: true };
    let report = crate::seed::seed_demo(db, &options)?;
    println!(
        "demo data: {} areas, {} organisations, {} users, {} trainings, {} certificates, {} handouts ({} kits), {} reversal reports in {:.1}s",
        report.areas,
        report.organisations,
        report.users,
        report.trainings,
        report.certificates,
        report.kit_issues,
        report.kits,
        report.reversals,
        report.elapsed.as_secs_f64()
    );
    println!("commissioners:");
    for (area, email) in &report.commissioners {
        println!("  {email} ({area})");
    }
    println!("coordinators, trainers and peers: coordinator.<organisation>@demo.example, trainer1.<organisation>@…, peer1.<organisation>@…");
    if generated {
        println!(
            "admin: {}  password: {password}  (every demo user shares this password; it is not shown again)",
            report.admin_email
        );
    } else {
        println!("admin: {}  (every demo user has the password given)", report.admin_email);
    }
    Ok(())
}

fn describe(error: crate::domain::Error) -> String {
    let problem = crate::http::problem::ApiError::from(error).problem();
    let fields: Vec<String> = problem.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
    if fields.is_empty() {
        problem.detail
    } else {
        format!("{} ({})", problem.detail, fields.join("; "))
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Opens the pool and brings the schema up to date.
fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let target = settings.database_target();
    let db = Database::connect(&target, settings.database_pool_size)?;
    for migration in db.migrate()? {
        tracing::info!(%migration, "applied migration");
    }
    Ok(db)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let target = settings.database_target();
    let db = open_database(&settings)?;
    if !users::has_admin(&db).map_err(|e| anyhow::anyhow!("{e}"))? {
        tracing::warn!(
            "no admin user yet: create one with `naloxone-tracker create-admin --email you@example.org` (add the same --data-dir or --database-url)"
        );
    }
    let state = AppState::new(&settings, db)?;
    let listener = TcpListener::bind(&settings.bind_address)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind_address))?;
    let app = Application::build(&settings, state, listener)?;
    tracing::info!(address = %app.address(), database = %target.redacted(), "serving; API docs at /docs");
    if let Some(address) = app.metrics_address() {
        tracing::info!(%address, "Prometheus metrics at /metrics");
    }
    app.run().await?;
    tracing::info!("stopped");
    Ok(())
}

/// From a prompt on a terminal (asked twice), otherwise the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password for the new admin: ")?;
        let second = rpassword::prompt_password("Same password again: ")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}
