//! Names in a file, looked up once each: the people of the organisation by
//! email, areas and products by name, the organisation's batches by lot.

use std::collections::HashMap;

use crate::domain::principal::Principal;
use crate::model::ids::UserId;
use crate::model::values::Email;
use crate::storage::organisations::Organisation;
use crate::storage::users::Account;
use crate::storage::{self as store, DbConnection};

pub struct Directory<'a> {
    organisation: &'a Organisation,
    /// Who the audit log says the records came from.
    request_id: String,
    areas: Vec<(String, String)>,
    products: Vec<(String, String)>,
    people: HashMap<String, Option<Account>>,
    lots: HashMap<String, Vec<String>>,
}

/// The one entry whose name is `name` (case aside), or why not.
fn one_named(entries: &[(String, String)], name: &str, what: &str, by_id: &str) -> Result<String, String> {
    let found: Vec<&String> = entries.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, id)| id).collect();
    match found.as_slice() {
        [id] => Ok((*id).clone()),
        [] => Err(format!("no {what} is called \"{name}\"")),
        _ => Err(format!("{} {what}s are called \"{name}\": give `{by_id}` instead", found.len())),
    }
}

impl<'a> Directory<'a> {
    pub fn load(conn: &mut DbConnection, organisation: &'a Organisation, source: &str) -> store::Result<Self> {
        let areas = store::areas::all(conn)?.into_iter().map(|a| (a.name, a.id.to_string())).collect();
        let products = store::products::all(conn)?.into_iter().map(|p| (p.name, p.id.to_string())).collect();
        Ok(Directory {
            organisation,
            request_id: format!("import {source}"),
            areas,
            products,
            people: HashMap::new(),
            lots: HashMap::new(),
        })
    }

    pub fn area(&self, name: &str) -> Result<String, String> {
        one_named(&self.areas, name, "area", "area_id")
    }

    pub fn product(&self, name: &str) -> Result<String, String> {
        one_named(&self.products, name, "product", "product_id")
    }

    pub fn batch(&mut self, conn: &mut DbConnection, lot: &str) -> Result<String, String> {
        if !self.lots.contains_key(lot) {
            let ids = store::stock::batches_with_lot(conn, &self.organisation.id, lot)
                .map_err(|e| format!("could not be looked up: {e}"))?
                .into_iter()
                .map(|b| b.id.to_string())
                .collect();
            self.lots.insert(lot.to_owned(), ids);
        }
        match self.lots[lot].as_slice() {
            [id] => Ok(id.clone()),
            [] => Err(format!("{} has no batch with the lot number \"{lot}\"", self.organisation.name)),
            more => Err(format!("{} batches have the lot number \"{lot}\": give `batch_id` instead", more.len())),
        }
    }

    fn account(&mut self, conn: &mut DbConnection, email: &str) -> Result<&Account, String> {
        let key = Email::normalise(email);
        if !self.people.contains_key(&key) {
            let account =
                store::users::find_account_by_email(conn, &key).map_err(|e| format!("could not be looked up: {e}"))?;
            self.people.insert(key.clone(), account);
        }
        self.people[&key].as_ref().ok_or_else(|| format!("nobody has the email {email}"))
    }

    /// Someone named in a record (an attendee): any account.
    pub fn person(&mut self, conn: &mut DbConnection, email: &str) -> Result<UserId, String> {
        self.account(conn, email).map(|account| account.row.id.clone())
    }

    /// Who a record is made as: an active account of the organisation.
    pub fn author(&mut self, conn: &mut DbConnection, email: &str) -> Result<Principal, String> {
        let organisation = self.organisation;
        let request_id = self.request_id.clone();
        let account = self.account(conn, email)?;
        if account.row.organisation_id.as_ref() != Some(&organisation.id) {
            return Err(format!("{email} is not one of the people of {}", organisation.name));
        }
        Principal::of(account.clone(), Some(request_id))
            .ok_or_else(|| format!("{email}'s account is deactivated: reactivate it for the import"))
    }
}
