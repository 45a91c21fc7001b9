//! Settings from command-line flags, environment variables and a `.env` file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::storage::DatabaseTarget;

/// Records take-home naloxone kits, peer trainings and overdose reversals.
#[derive(Debug, Parser)]
#[command(
    name = "naloxone-tracker",
    version,
    about,
    long_about = None,
    after_help = "Environment only: JWT_SECRET (access-token signing secret) and RECIPIENT_CODE_KEY \
(the key that hashes recipient codes), each at least 32 bytes and generated in the data folder when \
unset; RUST_LOG (log level, default info). \
A .env file in the working directory is read too."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an admin user; the password is read from standard input or prompted for.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        display_name: String,
        /// Refuse to create a new database: the admin is for the one the
        /// server already uses (say, when run from another folder).
        #[arg(long)]
        existing: bool,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Fill the database with realistic demo data: areas, organisations,
    /// users of every role, trainings, certificates, handouts and reversal
    /// reports over the years. Once per database.
    SeedDemo {
        /// Kit-issue records (handouts) to make; a tally record holds several kits.
        #[arg(long, default_value_t = crate::seed::DEFAULT_KITS, value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
        kits: u64,
        /// Years of history, up to the start of today (UTC).
        #[arg(long, default_value_t = crate::seed::DEFAULT_YEARS, value_parser = clap::value_parser!(u32).range(1..=30))]
        years: u32,
        /// Seed of the random generator: the same seed and options give the same data.
        #[arg(long, default_value_t = crate::seed::DEFAULT_SEED)]
        seed: u64,
        /// The password every demo user shares (at least 10 characters).
        /// When absent, a random one is made and printed at the end.
        #[arg(long, env = "DEMO_PASSWORD")]
        password: Option<String>,
    },
    /// Write an encrypted backup of the database (SQLite; for PostgreSQL use
    /// `pg_dump`) and the key files, while the server runs. The passphrase
    /// comes from `BACKUP_PASSPHRASE`, standard input or a prompt.
    Backup {
        /// The backup file to write (a new file).
        #[arg(long)]
        output: std::path::PathBuf,
    },
    /// Restore a backup into `--data-dir`, which must be empty or new.
    Restore {
        /// The backup file to read.
        #[arg(long)]
        input: std::path::PathBuf,
    },
    /// Bring earlier records of an organisation in from a CSV file (the
    /// format is in docs/import.md). Rows are judged by the API's rules;
    /// importing the same file again stores nothing twice.
    Import {
        /// What the file holds.
        #[arg(value_enum)]
        kind: crate::import::Kind,
        /// The CSV file (UTF-8, with a header row).
        file: std::path::PathBuf,
        /// The organisation the records belong to, by name or id.
        #[arg(long)]
        organisation: String,
        /// Say what each row would become, and store nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(long = "bind", env = "BIND_ADDRESS", default_value = "127.0.0.1:8080", global = true)]
    pub bind_address: String,

    /// `postgres://…` for PostgreSQL; `sqlite://PATH` or a path for SQLite.
    /// Default: `naloxone.db` in the data folder.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Folder for the SQLite database and the generated keys (token secret, certificate signing key).
    #[arg(long, env = "DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Connections kept in the database pool.
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 10, global = true)]
    pub database_pool_size: u32,

    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECONDS", default_value_t = 900, value_parser = clap::value_parser!(i64).range(30..=86_400), global = true)]
    pub access_token_ttl_seconds: i64,

    /// Lifetime of refresh tokens, in days.
    #[arg(long, env = "REFRESH_TOKEN_TTL_DAYS", default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=365), global = true)]
    pub refresh_token_ttl_days: i64,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 1_048_576, global = true)]
    pub body_limit_bytes: usize,

    /// Browser origins allowed to call the API (comma separated); none by default.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Statistics for commissioners hide every count from 1 to this − 1
    /// (disclosure control); 1 hides nothing.
    #[arg(long, env = "DISCLOSURE_THRESHOLD", default_value_t = 5, value_parser = clap::value_parser!(i64).range(1..=100), global = true)]
    pub disclosure_threshold: i64,

    /// Failed sign-ins of one account from one client address before its
    /// next attempt from there waits (the delays below).
    #[arg(long, env = "LOGIN_MAX_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub login_max_failures: u32,

    /// The first wait after those failures, in seconds; each further failure
    /// doubles it, up to `LOGIN_MAX_DELAY_SECONDS`.
    #[arg(long, env = "LOGIN_DELAY_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=86_400), global = true)]
    pub login_delay_seconds: u32,

    /// The longest wait between failed sign-ins of one account from one address, in seconds.
    #[arg(long, env = "LOGIN_MAX_DELAY_SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u32).range(1..=86_400), global = true)]
    pub login_max_delay_seconds: u32,

    /// Failed sign-ins of one account from all addresses together within
    /// `LOGIN_WINDOW_SECONDS`, after which it is locked everywhere until the
    /// window ends or a coordinator or admin unlocks it.
    #[arg(long, env = "LOGIN_ACCOUNT_MAX_FAILURES", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub login_account_max_failures: u32,

    /// Failed sign-ins from one address for all accounts together within
    /// `LOGIN_WINDOW_SECONDS` (many honest people may share one address).
    #[arg(long, env = "LOGIN_ADDRESS_MAX_FAILURES", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub login_address_max_failures: u32,

    /// The window of the two ceilings above, in seconds; an account and
    /// address's failures are forgotten this long after the last one.
    #[arg(long, env = "LOGIN_WINDOW_SECONDS", default_value_t = 86_400, value_parser = clap::value_parser!(u32).range(60..=2_592_000), global = true)]
    pub login_window_seconds: u32,

    /// How long after a refresh the replaced refresh token may be presented
    /// again (a lost answer, two tabs) and get a pair of the same session,
    /// as long as its replacement is unused, in seconds; 0 turns this off.
    #[arg(long, env = "REFRESH_GRACE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=3600), global = true)]
    pub refresh_grace_seconds: u32,

    /// How long a new certificate lasts, in months.
    #[arg(long, env = "CERTIFICATE_VALIDITY_MONTHS", default_value_t = 36, value_parser = clap::value_parser!(u32).range(1..=120), global = true)]
    pub certificate_validity_months: u32,

    /// Public certificate checks allowed per client address per minute.
    #[arg(long, env = "VERIFY_RATE_PER_MINUTE", default_value_t = 30, global = true)]
    pub verify_rate_per_minute: u32,

    /// Log lines as text or JSON. The level comes from `RUST_LOG` (default `info`).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS", global = true)]
    pub workers: Option<usize>,

    /// The access-token signing secret (at least 32 bytes) from `JWT_SECRET`.
    /// Never a flag, so it does not show in process lists. When unset, one is
    /// generated in the data folder on first start.
    #[arg(skip = std::env::var("JWT_SECRET").ok())]
    pub jwt_secret: Option<String>,

    /// The key that hashes recipient codes, from `RECIPIENT_CODE_KEY` (at
    /// least 32 bytes). When unset, one is generated in the data folder.
    #[arg(skip = std::env::var("RECIPIENT_CODE_KEY").ok())]
    pub recipient_code_key: Option<String>,

    /// Address and port to serve Prometheus metrics on (`/metrics`), apart
    /// from the API; off by default. Keep it on an internal network.
    #[arg(long = "metrics-bind", env = "METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,

    /// Reverse proxies (addresses or networks, comma separated: `127.0.0.1,10.0.0.0/8`)
    /// whose `Forwarded` or `X-Forwarded-For` header names the client, for the
    /// per-address limits; from anyone else those headers are ignored. None by default.
    #[arg(long = "trusted-proxies", env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_trusted_proxy, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Serve HTTPS with this certificate chain (a PEM file, the server's
    /// certificate first), with `--tls-key`; browsers are then told to keep
    /// to HTTPS (HSTS). Phones need HTTPS for the app to work offline.
    #[arg(long = "tls-cert", env = "TLS_CERT", requires = "tls_key", global = true)]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The certificate's private key (a PEM file), with `--tls-cert`.
    #[arg(long = "tls-key", env = "TLS_KEY", requires = "tls_cert", global = true)]
    pub tls_key: Option<std::path::PathBuf>,
}

/// Reads one of `--trusted-proxies`: an address (`127.0.0.1`) or a network (`10.0.0.0/8`).
fn parse_trusted_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an address nor a network (such as 10.0.0.0/8)"))
}

impl Settings {
    pub fn database_target(&self) -> DatabaseTarget {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => DatabaseTarget::parse(url.trim()),
            _ => DatabaseTarget::parse(&self.data_dir.join("naloxone.db").to_string_lossy()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_put_sqlite_in_the_data_folder() {
        let cli = Cli::try_parse_from(["naloxone-tracker", "--data-dir", "/tmp/nx", "migrate"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Migrate)));
        if std::env::var_os("DATABASE_URL").is_none() {
            assert_eq!(cli.settings.database_target().location, "/tmp/nx/naloxone.db");
        }
    }

    #[test]
    fn seed_demo_takes_its_options() {
        let cli = Cli::try_parse_from(["naloxone-tracker", "seed-demo", "--kits", "2000", "--years", "3"]).unwrap();
        match cli.command {
            Some(Command::SeedDemo { kits, years, seed, .. }) => {
                assert_eq!((kits, years, seed), (2000, 3, crate::seed::DEFAULT_SEED));
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["naloxone-tracker", "seed-demo", "--years", "0"]).is_err());
    }

    #[test]
    fn sign_in_settings_have_their_defaults_and_bounds() {
        let cli = Cli::try_parse_from(["naloxone-tracker"]).unwrap();
        let s = cli.settings;
        if std::env::vars().all(|(name, _)| !name.starts_with("LOGIN_") && name != "REFRESH_GRACE_SECONDS") {
            assert_eq!(
                (
                    s.login_max_failures,
                    s.login_delay_seconds,
                    s.login_max_delay_seconds,
                    s.login_account_max_failures,
                    s.login_address_max_failures,
                    s.login_window_seconds,
                    s.refresh_grace_seconds
                ),
                (5, 60, 3600, 100, 100, 86_400, 60)
            );
        }
        assert!(Cli::try_parse_from(["naloxone-tracker", "--refresh-grace-seconds", "3601"]).is_err());
        assert!(Cli::try_parse_from(["naloxone-tracker", "--login-max-failures", "0"]).is_err());
        assert!(Cli::try_parse_from(["naloxone-tracker", "--refresh-grace-seconds", "0"]).is_ok());
    }

    #[test]
    fn metrics_have_no_address_unless_given_one() {
        let cli = Cli::try_parse_from(["naloxone-tracker", "serve"]).unwrap();
        if std::env::var_os("METRICS_BIND").is_none() {
            assert_eq!(cli.settings.metrics_bind, None);
        }
        let cli = Cli::try_parse_from(["naloxone-tracker", "serve", "--metrics-bind", "10.0.0.5:9100"]).unwrap();
        assert_eq!(cli.settings.metrics_bind.as_deref(), Some("10.0.0.5:9100"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let cli = Cli::try_parse_from(["naloxone-tracker", "--trusted-proxies", "127.0.0.1, 10.0.0.0/8,::1"]).unwrap();
        let shown: Vec<String> = cli.settings.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        let refused = Cli::try_parse_from(["naloxone-tracker", "--trusted-proxies", "proxy.local"]).unwrap_err();
        assert!(refused.to_string().contains("neither an address nor a network"), "{refused}");
    }

    #[test]
    fn flags_work_after_the_subcommand_too() {
        let cli = Cli::try_parse_from(["naloxone-tracker", "serve", "--bind", "0.0.0.0:9000"]).unwrap();
        assert_eq!(cli.settings.bind_address, "0.0.0.0:9000");
    }
}
