//! Signing in: passwords, access and refresh tokens, sessions and the
//! throttle on sign-ins (`throttle` is the in-memory one of the public
//! certificate check).

pub mod login;
pub mod login_throttle;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;

pub use login::Authentication;
