//! Signing in: passwords, access and refresh tokens, the signed-in caller
//! and the throttle on failed logins.

pub mod handlers;
pub mod password;
pub mod principal;
pub mod sessions;
pub mod tokens;

pub use principal::{Principal, Role};
