//! Signing in: passwords, access and refresh tokens, sessions and the
//! throttle on failed logins.

pub mod login;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;

pub use login::Authentication;
