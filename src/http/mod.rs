//! HTTP: the only code that knows actix-web. The application and its
//! middleware, the route table (which is also the OpenAPI document), the
//! extractors that read requests strictly, problem+json answers, and one
//! thin handler module per resource.

mod app;
mod client_address;
pub mod extract;
mod fallback;
mod handlers;
mod metrics;
pub mod middleware;
pub mod openapi;
pub mod problem;
mod respond;
mod routes;
pub mod state;
mod stats_docs;
mod tls;

pub use app::Application;
pub use state::AppState;
