//! The route table: every handler is registered here once, and that
//! registration is both its actix-web route and its OpenAPI entry
//! (utoipa-actix-web collects the path, method and schemas from the
//! handler's own `#[utoipa::path]` and route attributes), so a route cannot
//! exist without its spec entry or the other way round.

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use super::handlers::{
    areas, auth, certificates, kit_issues, operations, organisations, products, reversals, stats, stock, sync,
    trainings, users,
};

/// Registers every route of the API (the docs page is added beside them).
pub fn api(config: &mut ServiceConfig) {
    config.service(operations::health).service(operations::ready).service(certificates::jwks).service(
        scope::scope("/api/v1")
            .service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(users::me)
            .service(users::list)
            .service(users::create)
            .service(users::get)
            .service(users::update)
            .service(users::unlock)
            .service(areas::list)
            .service(areas::create)
            .service(areas::get)
            .service(areas::update)
            .service(organisations::list)
            .service(organisations::create)
            .service(organisations::get)
            .service(organisations::update)
            .service(products::list)
            .service(products::create)
            .service(products::get)
            .service(trainings::list)
            .service(trainings::create)
            .service(trainings::get)
            .service(trainings::update)
            .service(trainings::void)
            .service(trainings::release)
            .service(certificates::list)
            .service(certificates::create)
            .service(certificates::get)
            .service(certificates::revoke)
            .service(certificates::token)
            .service(certificates::verify)
            .service(stock::create_batch)
            .service(stock::batches_list)
            .service(stock::recall_batch)
            .service(stock::create_movement)
            .service(stock::stock_on_hand)
            .service(kit_issues::list)
            .service(kit_issues::create)
            .service(kit_issues::get)
            .service(kit_issues::update)
            .service(kit_issues::void)
            .service(kit_issues::release)
            .service(reversals::list)
            .service(reversals::create)
            .service(reversals::get)
            .service(reversals::update)
            .service(reversals::void)
            .service(reversals::release)
            .service(sync::sync)
            .service(sync::reference)
            .service(stats::kits)
            .service(stats::kits_csv)
            .service(stats::reversals)
            .service(stats::reversals_csv)
            .service(stats::trainings)
            .service(stats::trainings_csv)
            .service(stats::summary)
            .service(stats::spikes),
    );
}
