//! Certificates as stored, and the queries on them.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::connection::DbConnection;
use super::error::Result;
use super::paging::{paged, Paging};
use super::schema::{certificates, organisations, users};
use crate::model::certificates::{CertificateLevel, CertificateStatus};
use crate::model::ids::{AreaId, CertificateId, OrganisationId, TrainingId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certificates)]
pub struct CertificateRow {
    pub id: CertificateId,
    pub user_id: UserId,
    pub level: CertificateLevel,
    pub training_id: Option<TrainingId>,
    pub organisation_id: OrganisationId,
    pub issued_by: UserId,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<UserId>,
    pub revoke_reason: Option<String>,
    pub verification_code: String,
    /// Why it was issued with no training, when an admin said.
    pub issue_reason: Option<String>,
    /// What a certificate dated before it was recorded rests on.
    pub evidence: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CertificateFilter {
    /// The holder.
    pub user_id: Option<Uuid>,
    /// The holder's organisation.
    pub organisation_id: Option<Uuid>,
    pub level: Option<CertificateLevel>,
    pub status: Option<CertificateStatus>,
    /// Only valid certificates that expire within this many days.
    #[param(minimum = 0, maximum = 3650)]
    pub expiring_within_days: Option<u16>,
}

/// Which certificates a list may show.
pub enum Visible {
    All,
    /// Those the user holds or issued, and (for a coordinator) those held
    /// by the people of their organisation.
    Of {
        user: UserId,
        organisation: Option<OrganisationId>,
    },
}

/// A user's certificates as spans: (level, issued, expires, revoked).
pub type Span = (CertificateLevel, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>);

pub fn spans_of(conn: &mut DbConnection, user: &UserId) -> Result<Vec<Span>> {
    Ok(certificates::table
        .filter(certificates::user_id.eq(user))
        .select((certificates::level, certificates::issued_at, certificates::expires_at, certificates::revoked_at))
        .load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: &CertificateId) -> Result<Option<CertificateRow>> {
    Ok(certificates::table.find(id).select(CertificateRow::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &CertificateRow) -> Result<()> {
    diesel::insert_into(certificates::table).values(row).execute(conn)?;
    Ok(())
}

pub fn revoke(conn: &mut DbConnection, id: &CertificateId, by: &UserId, at: NaiveDateTime, reason: &str) -> Result<()> {
    diesel::update(certificates::table.find(id))
        .set((certificates::revoked_at.eq(at), certificates::revoked_by.eq(by), certificates::revoke_reason.eq(reason)))
        .execute(conn)?;
    Ok(())
}

/// A user's certificates, newest first.
pub fn of_holder(conn: &mut DbConnection, user: &UserId) -> Result<Vec<CertificateRow>> {
    Ok(certificates::table
        .filter(certificates::user_id.eq(user))
        .order(certificates::issued_at.desc())
        .select(CertificateRow::as_select())
        .load(conn)?)
}

type Backend = <DbConnection as diesel::Connection>::Backend;
type Condition = Box<dyn BoxableExpression<certificates::table, Backend, SqlType = Bool>>;

fn visible_condition(visible: &Visible) -> Condition {
    let Visible::Of { user, organisation } = visible else {
        return Box::new(sql::<Bool>("1 = 1"));
    };
    let mut condition: Condition =
        Box::new(certificates::user_id.eq(user.clone()).or(certificates::issued_by.eq(user.clone())));
    if let Some(organisation) = organisation {
        let people = users::table.filter(users::organisation_id.eq(organisation.clone())).select(users::id);
        condition = Box::new(condition.or(certificates::user_id.eq_any(people)));
    }
    condition
}

/// A page of the certificates visible, as they stand at `at`.
pub fn list(
    conn: &mut DbConnection,
    visible: &Visible,
    filter: &CertificateFilter,
    at: NaiveDateTime,
    paging: Paging<'_>,
) -> Result<Vec<CertificateRow>> {
    let mut query =
        certificates::table.select(CertificateRow::as_select()).filter(visible_condition(visible)).into_boxed();
    if let Some(user) = filter.user_id {
        query = query.filter(certificates::user_id.eq(user.to_string()));
    }
    if let Some(organisation) = filter.organisation_id {
        let people = users::table.filter(users::organisation_id.eq(organisation.to_string())).select(users::id);
        query = query.filter(certificates::user_id.eq_any(people));
    }
    if let Some(level) = filter.level {
        query = query.filter(certificates::level.eq(level));
    }
    // As `status_at` in the domain: revoked, then expired, then suspended
    // (the holder is deactivated), else valid.
    let inactive = || users::table.filter(users::active.eq(false)).select(users::id);
    match filter.status {
        Some(CertificateStatus::Revoked) => query = query.filter(certificates::revoked_at.is_not_null()),
        Some(CertificateStatus::Expired) => {
            query = query.filter(certificates::revoked_at.is_null()).filter(certificates::expires_at.le(at))
        }
        Some(CertificateStatus::Suspended) => {
            query = query
                .filter(certificates::revoked_at.is_null())
                .filter(certificates::expires_at.gt(at))
                .filter(certificates::user_id.eq_any(inactive()))
        }
        Some(CertificateStatus::Valid) => {
            query = query
                .filter(certificates::revoked_at.is_null())
                .filter(certificates::expires_at.gt(at))
                .filter(certificates::user_id.ne_all(inactive()))
        }
        None => {}
    }
    if let Some(days) = filter.expiring_within_days {
        let horizon = at + chrono::Duration::days(i64::from(days));
        query = query
            .filter(certificates::revoked_at.is_null())
            .filter(certificates::expires_at.gt(at))
            .filter(certificates::expires_at.le(horizon))
            .filter(certificates::user_id.ne_all(inactive()));
    }
    Ok(paged!(query, certificates::id, paging).load(conn)?)
}

/// Which of these holders are deactivated.
pub fn inactive_holders(conn: &mut DbConnection, holders: &[&UserId]) -> Result<HashSet<UserId>> {
    if holders.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(holders))
        .filter(users::active.eq(false))
        .select(users::id)
        .load::<UserId>(conn)?
        .into_iter()
        .collect())
}

/// How to find one certificate.
pub enum Lookup<'a> {
    Id(&'a CertificateId),
    Code(&'a str),
}

/// A certificate with its issuing organisation's name, its holder's
/// display name and whether the holder's account is active.
pub fn with_names(
    conn: &mut DbConnection,
    lookup: Lookup<'_>,
) -> Result<Option<(CertificateRow, String, String, bool)>> {
    let query = certificates::table
        .inner_join(organisations::table)
        .inner_join(users::table.on(users::id.eq(certificates::user_id)))
        .select((CertificateRow::as_select(), organisations::name, users::display_name, users::active))
        .into_boxed();
    let query = match lookup {
        Lookup::Id(id) => query.filter(certificates::id.eq(id)),
        Lookup::Code(code) => query.filter(certificates::verification_code.eq(code)),
    };
    Ok(query.first(conn).optional()?)
}

/// At `at`: how many active users hold a valid certificate, and how many
/// valid certificates expire by `horizon`, of organisations in `areas`
/// (all, if `None`) and, if given, issued by one organisation.
pub fn valid_counts(
    conn: &mut DbConnection,
    areas: Option<&[AreaId]>,
    organisation: Option<&OrganisationId>,
    at: NaiveDateTime,
    horizon: NaiveDateTime,
) -> Result<(i64, i64)> {
    let valid = || {
        let mut query = certificates::table
            .inner_join(organisations::table)
            .inner_join(users::table.on(users::id.eq(certificates::user_id)))
            .filter(users::active.eq(true))
            .filter(certificates::issued_at.le(at))
            .filter(certificates::expires_at.gt(at))
            .filter(certificates::revoked_at.is_null().or(certificates::revoked_at.gt(at)))
            .into_boxed();
        if let Some(areas) = areas {
            query = query.filter(organisations::area_id.eq_any(areas.to_vec()));
        }
        if let Some(organisation) = organisation {
            query = query.filter(certificates::organisation_id.eq(organisation.clone()));
        }
        query
    };
    let holders: i64 = valid().select(diesel::dsl::count(certificates::user_id).aggregate_distinct()).first(conn)?;
    let expiring: i64 =
        valid().filter(certificates::expires_at.le(horizon)).select(diesel::dsl::count_star()).first(conn)?;
    Ok((holders, expiring))
}
