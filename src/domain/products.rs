//! Naloxone products: what a kit contains.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::audit::{self, Action};
use super::error::{Code, Error};
use super::listing::Listed;
use super::pagination::{Page, PageRequest};
use super::principal::Principal;
use super::validation::plain_text;
use crate::model::ids::ProductId;
use crate::model::reference::Route;
use crate::model::roles::Role;
use crate::model::time::now;
pub use crate::storage::products::Product;
use crate::storage::{products, Database, DbConnection};

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[validate(length(max = 200), custom(function = "plain_text"))]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    pub name: String,
    pub route: Route,
    #[validate(range(min = 1, max = 20))]
    #[schema(minimum = 1, maximum = 20)]
    pub doses_per_kit: i32,
    #[validate(range(exclusive_min = 0.0, max = 100.0))]
    #[schema(exclusive_minimum = 0.0, maximum = 100.0)]
    pub mg_per_dose: f64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductFilter {
    pub route: Option<Route>,
}

impl Listed for Product {
    type Id = ProductId;
    type Filter = ProductFilter;
    const NAME: &'static str = "product";

    fn find(conn: &mut DbConnection, _: &Principal, id: &ProductId) -> Result<Option<Product>, Error> {
        Ok(products::find(conn, id)?)
    }

    fn list(
        conn: &mut DbConnection,
        _: &Principal,
        filter: &ProductFilter,
        page: &PageRequest,
    ) -> Result<Page<Product>, Error> {
        let rows = products::list(conn, filter.route, page.paging())?;
        Ok(Page::from_rows(rows, page, |p| p.id.as_str()))
    }
}

/// Adds a product (admin).
pub async fn create(db: &Database, principal: Principal, new: NewProduct) -> Result<Product, Error> {
    principal.require_any(&[Role::Admin])?;
    super::transaction::write(db, move |conn| {
        let name = new.name.trim().to_owned();
        if products::name_taken(conn, &name)? {
            return Err(Error::conflict(Code::NameTaken, "a product with this name exists"));
        }
        let at = now();
        let product = Product {
            id: ProductId::new_v7(),
            name,
            route: new.route,
            doses_per_kit: new.doses_per_kit,
            mg_per_dose: new.mg_per_dose,
            created_at: at,
            updated_at: at,
        };
        products::insert(conn, &product)?;
        audit::record(conn, &principal.actor(), Action::Create, "product", product.id.as_str(), None, &product)?;
        Ok(product)
    })
    .await
}
