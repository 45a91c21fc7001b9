//! Naloxone products: what a kit contains.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::{paged, Paging};
use super::schema::products;
use crate::model::ids::ProductId;
use crate::model::reference::Route;

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = products)]
pub struct Product {
    #[schema(value_type = uuid::Uuid)]
    pub id: ProductId,
    #[schema(example = "Prenoxad 2 mg/2 ml syringe")]
    pub name: String,
    pub route: Route,
    #[schema(example = 5)]
    pub doses_per_kit: i32,
    #[schema(example = 0.4)]
    pub mg_per_dose: f64,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::model::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub updated_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, id: &ProductId) -> Result<Option<Product>> {
    Ok(products::table.find(id).select(Product::as_select()).first(conn).optional()?)
}

pub fn exists(conn: &mut DbConnection, id: &ProductId) -> Result<bool> {
    Ok(products::table.find(id).select(products::id).first::<ProductId>(conn).optional()?.is_some())
}

pub fn name_taken(conn: &mut DbConnection, name: &str) -> Result<bool> {
    Ok(products::table
        .filter(products::name.eq(name))
        .select(products::id)
        .first::<ProductId>(conn)
        .optional()?
        .is_some())
}

/// How many doses one kit of a product holds.
pub fn doses_per_kit(conn: &mut DbConnection, id: &ProductId) -> Result<i32> {
    Ok(products::table.find(id).select(products::doses_per_kit).first(conn)?)
}

/// Every product, in creation order (what a phone caches).
pub fn all(conn: &mut DbConnection) -> Result<Vec<Product>> {
    Ok(products::table.order(products::id.asc()).select(Product::as_select()).load(conn)?)
}

/// A page of products.
pub fn list(conn: &mut DbConnection, route: Option<Route>, paging: Paging<'_>) -> Result<Vec<Product>> {
    let mut query = products::table.select(Product::as_select()).into_boxed();
    if let Some(route) = route {
        query = query.filter(products::route.eq(route));
    }
    Ok(paged!(query, products::id, paging).load(conn)?)
}

pub fn insert(conn: &mut DbConnection, product: &Product) -> Result<()> {
    diesel::insert_into(products::table).values(product).execute(conn)?;
    Ok(())
}
