//! The command line: `serve` (the default), `migrate`, `create-admin`, `openapi`, `seed-demo`,
//! `backup`, `restore`, `import`.

use std::io::{BufRead, IsTerminal};
use std::net::TcpListener;

use clap::Parser;

use crate::config::{Cli, Command, LogFormat, Settings};
use crate::domain::auth::password::{MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH};
use crate::domain::{backup, users};
use crate::http::{AppState, Application};
use crate::storage::{Backend, Database};

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
            let db = open_database(&cli.settings, Opening::MayCreate)?;
            println!("database is up to date ({})", cli.settings.database_target().redacted());
            drop(db);
            Ok(())
        }
        Command::CreateAdmin { email, display_name, existing } => {
            let opening = if existing { Opening::MustExist } else { Opening::MayCreate };
            // First the password, so that one refused leaves no new database behind.
            let password = read_password()?;
            let db = open_database(&cli.settings, opening)?;
            let user = users::create_admin(&db, &email, &display_name, &password)
                .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
            println!("created admin {} ({})", user.email, user.id);
            Ok(())
        }
        Command::Openapi => {
            print!("{}", crate::http::openapi::document());
            Ok(())
        }
        Command::Backup { output } => {
            let passphrase = read_passphrase(true)?;
            let target = cli.settings.database_target();
            let made = backup::make(&target, &cli.settings.data_dir, &output, passphrase)?;
            println!("wrote {} ({})", output.display(), made.files.join(", "));
            if !made.database {
                println!(
                    "the database itself is PostgreSQL's to back up: pg_dump --format=custom --file=naloxone.pgdump '{}'",
                    target.redacted()
                );
            }
            for key in made.keys_not_in_folder {
                println!("{key} is not in the data folder (it is given in the environment): keep it safe yourself");
            }
            Ok(())
        }
        Command::Restore { input } => {
            let passphrase = read_passphrase(false)?;
            let restored = backup::restore(&input, &cli.settings.data_dir, passphrase)?;
            println!("restored {} into {}", restored.join(", "), cli.settings.data_dir.display());
            Ok(())
        }
        Command::Import { kind, file, organisation, dry_run } => {
            let table = crate::import::Table::read(kind, &file)?;
            let db = open_database(&cli.settings, Opening::MustExist)?;
            let key = crate::domain::keys::recipient_code_key(
                cli.settings.recipient_code_key.as_deref(),
                &cli.settings.data_dir,
            )?;
            let source = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into());
            let progress = progress_bar(table.len());
            let report = actix_web::rt::System::new().block_on(crate::import::import(
                &db,
                key,
                &organisation,
                table,
                &source,
                dry_run,
                &progress,
            ))?;
            progress.finish_and_clear();
            print_import_report(&report, dry_run)
        }
        Command::SeedDemo { kits, years, seed, password } => {
            let db = open_database(&cli.settings, Opening::MayCreate)?;
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
    println!(
        "to try an import (docs/import.md), with the same --data-dir: naloxone-tracker import handouts examples/import/handouts.csv --organisation \"EACH Recovery Matters Hub, Kilmarnock\" --dry-run"
    );
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

/// A bar on standard error when it is a terminal (nothing otherwise).
fn progress_bar(rows: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(rows as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {eta} left") {
        bar.set_style(style);
    }
    bar
}

/// Each row that was not simply stored (every row in a dry run), then the
/// totals. Refused rows make the command fail, so that a script notices.
fn print_import_report(report: &crate::import::Report, dry_run: bool) -> anyhow::Result<()> {
    use crate::import::Outcome;
    for row in &report.rows {
        let said = match &row.outcome {
            Outcome::Created { id } if dry_run => format!("would be created ({id})"),
            Outcome::Created { .. } => continue,
            Outcome::Held { id, reasons } => {
                let why: Vec<String> = reasons.reasons().iter().map(|r| format!("{}: {}", r.code, r.message)).collect();
                format!(
                    "{} held for a coordinator ({id}): {}",
                    if dry_run { "would be" } else { "stored," },
                    why.join("; ")
                )
            }
            Outcome::Duplicate { id } => format!("imported before ({id}): nothing new"),
            Outcome::Refused(crate::domain::Error::Invalid(errors)) => {
                let fields: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
                format!("refused: {}", fields.join("; "))
            }
            Outcome::Refused(error) => format!("refused: {}", describe(error.clone())),
        };
        println!("line {}: {said}", row.line);
    }
    let [created, held, duplicate, refused] = report.counts();
    println!(
        "{}{} rows: {created} created, {held} held for a coordinator to release, {duplicate} imported before, {refused} refused",
        if dry_run { "dry run, nothing was stored: " } else { "" },
        report.rows.len(),
    );
    if refused > 0 {
        anyhow::bail!("{refused} rows were not imported: fix them and import the file again (rows imported already are not stored twice)");
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
/// Whether a command may start a database of its own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opening {
    MayCreate,
    MustExist,
}

/// Opens and migrates the database, and says on standard error which one
/// and whether it is new: a command run from another folder would
/// otherwise make a second, empty database without a word.
fn open_database(settings: &Settings, opening: Opening) -> anyhow::Result<Database> {
    let target = settings.database_target();
    let shown = match target.backend {
        Backend::Sqlite => std::path::absolute(&target.location)
            .map_or_else(|_| target.redacted(), |path| format!("sqlite://{}", path.display())),
        Backend::Postgres => target.redacted(),
    };
    let file_missing = target.backend == Backend::Sqlite && !std::path::Path::new(&target.location).exists();
    if opening == Opening::MustExist && file_missing {
        anyhow::bail!("there is no database at {shown} (--existing): give the server's --data-dir or --database-url");
    }
    let db = Database::connect(&target, settings.database_pool_size)?;
    let new = db.is_new()?;
    if opening == Opening::MustExist && new {
        anyhow::bail!("the database at {shown} holds nothing yet (--existing): give the server's --database-url");
    }
    eprintln!("{} {shown}", if new { "creating a new database at" } else { "using the database at" });
    for migration in db.migrate()? {
        tracing::info!(%migration, "applied migration");
    }
    Ok(db)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let target = settings.database_target();
    let db = open_database(&settings, Opening::MayCreate)?;
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

/// From a prompt on a terminal (asked twice, once it has the allowed
/// length), otherwise the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password for the new admin: ")?;
        check_password_length(&first)?;
        let second = rpassword::prompt_password("Same password again: ")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        check_password_length(&password)?;
        Ok(password)
    }
}

/// A backup's passphrase: `BACKUP_PASSPHRASE`, else a prompt on a terminal
/// (asked twice for a new backup), else the first line of standard input.
fn read_passphrase(new: bool) -> anyhow::Result<age::secrecy::SecretString> {
    let passphrase = match std::env::var("BACKUP_PASSPHRASE") {
        Ok(passphrase) => passphrase,
        Err(_) if std::io::stdin().is_terminal() => {
            let first = rpassword::prompt_password("Passphrase for the backup: ")?;
            if new {
                let second = rpassword::prompt_password("Same passphrase again: ")?;
                anyhow::ensure!(first == second, "the two passphrases differ");
            }
            first
        }
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    anyhow::ensure!(
        !new || passphrase.chars().count() >= 12,
        "a backup's passphrase is at least 12 characters long: it guards health data"
    );
    Ok(passphrase.into())
}

fn check_password_length(password: &str) -> anyhow::Result<()> {
    let length = u64::try_from(password.chars().count()).unwrap_or(u64::MAX);
    anyhow::ensure!(
        (MIN_PASSWORD_LENGTH..=MAX_PASSWORD_LENGTH).contains(&length),
        "a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long; that one has {length}"
    );
    Ok(())
}
