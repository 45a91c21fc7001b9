//! What every request handler shares. It holds the domain's services and
//! settings and imports nothing of the handlers that use it.

use crate::config::Settings;
use crate::domain::auth::login_throttle::{LoginLimits, LoginThrottle};
use crate::domain::auth::throttle::Throttle;
use crate::domain::auth::tokens::{load_or_create_secret, TokenService};
use crate::domain::auth::Authentication;
use crate::domain::certificates::signing::CertificateSigner;
use crate::storage::Database;

pub struct AppState {
    pub db: Database,
    /// Tokens, sessions and the sign-in throttle.
    pub auth: Authentication,
    /// Limits public certificate look-ups per client address.
    pub verify_throttle: Throttle,
    pub certificate_signer: CertificateSigner,
    pub certificate_validity: chrono::Months,
    /// Keys the hash of pseudonymous recipient codes.
    pub recipient_code_key: Vec<u8>,
    /// Counts below it are hidden from commissioners.
    pub disclosure_threshold: i64,
    /// The reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl AppState {
    pub fn new(settings: &Settings, db: Database) -> anyhow::Result<Self> {
        let secret = load_or_create_secret(settings.jwt_secret.as_deref(), &settings.data_dir)?;
        Ok(Self {
            db,
            auth: Authentication {
                tokens: TokenService::new(&secret, settings.access_token_ttl_seconds),
                login_throttle: LoginThrottle::new(LoginLimits {
                    max_failures: settings.login_max_failures,
                    delay: chrono::Duration::seconds(settings.login_delay_seconds.into()),
                    max_delay: chrono::Duration::seconds(settings.login_max_delay_seconds.into()),
                    account_max_failures: settings.login_account_max_failures,
                    address_max_failures: settings.login_address_max_failures,
                    window: chrono::Duration::seconds(settings.login_window_seconds.into()),
                }),
                refresh_ttl: chrono::Duration::days(settings.refresh_token_ttl_days),
                refresh_grace: chrono::Duration::seconds(settings.refresh_grace_seconds.into()),
            },
            verify_throttle: Throttle::per_minute(settings.verify_rate_per_minute),
            certificate_signer: CertificateSigner::load_or_create(&settings.data_dir)?,
            certificate_validity: chrono::Months::new(settings.certificate_validity_months),
            recipient_code_key: crate::domain::keys::recipient_code_key(
                settings.recipient_code_key.as_deref(),
                &settings.data_dir,
            )?,
            disclosure_threshold: settings.disclosure_threshold,
            trusted_proxies: settings.trusted_proxies.clone(),
        })
    }
}
