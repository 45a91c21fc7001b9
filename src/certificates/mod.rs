//! Certificates: a peer's authority to supply naloxone (peer_supplier) or to
//! certify others (peer_trainer), issued by a trainer, with an expiry, and
//! verifiable by anyone holding its code.

pub mod handlers;
pub mod signing;

use chrono::{DateTime, Months, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Action};
use crate::auth::{Principal, Role};
use crate::db::{now, DbConnection};
use crate::error::ApiError;
use crate::schema::{certificates, organisations, training_attendees, trainings, users};
use crate::stats::Pending;

crate::text_enum! {
    pub enum CertificateLevel {
        /// May hand out naloxone kits.
        PeerSupplier = "peer_supplier",
        /// May hand out kits and certify others.
        PeerTrainer = "peer_trainer",
    }
}

crate::text_enum! {
    pub enum CertificateStatus {
        Valid = "valid",
        Expired = "expired",
        Revoked = "revoked",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Certificate {
    pub id: String,
    /// The holder.
    pub user_id: String,
    pub level: CertificateLevel,
    /// The training it was earned at, if recorded.
    pub training_id: Option<String>,
    /// The issuing organisation.
    pub organisation_id: String,
    /// The trainer (or admin) who issued it.
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    /// Give this to anyone who needs to check the certificate.
    #[schema(example = "7K2QF-9XMBD-R4T0W-HZ3NA")]
    pub verification_code: String,
    /// As of now.
    pub status: CertificateStatus,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certificates)]
struct CertificateRow {
    id: String,
    user_id: String,
    level: CertificateLevel,
    training_id: Option<String>,
    organisation_id: String,
    issued_by: String,
    issued_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    revoked_by: Option<String>,
    revoke_reason: Option<String>,
    verification_code: String,
}

impl CertificateRow {
    fn status_at(&self, at: NaiveDateTime) -> CertificateStatus {
        match self.revoked_at {
            Some(revoked) if revoked <= at => CertificateStatus::Revoked,
            _ if self.expires_at <= at => CertificateStatus::Expired,
            _ => CertificateStatus::Valid,
        }
    }

    fn to_api(&self, at: NaiveDateTime) -> Certificate {
        Certificate {
            id: self.id.clone(),
            user_id: self.user_id.clone(),
            level: self.level,
            training_id: self.training_id.clone(),
            organisation_id: self.organisation_id.clone(),
            issued_by: self.issued_by.clone(),
            issued_at: self.issued_at.and_utc(),
            expires_at: self.expires_at.and_utc(),
            revoked_at: self.revoked_at.map(|t| t.and_utc()),
            revoke_reason: self.revoke_reason.clone(),
            verification_code: self.verification_code.clone(),
            status: self.status_at(at),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCertificate {
    /// The holder: a peer for peer_supplier, a trainer for peer_trainer.
    pub user_id: Uuid,
    pub level: CertificateLevel,
    /// The training the holder attended, if any.
    pub training_id: Option<Uuid>,
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

/// A user's certificates as spans of time, to answer "may this user supply
/// or certify at T?" for many T with one query.
pub struct Authority {
    spans: Vec<(CertificateLevel, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>)>,
}

impl Authority {
    pub fn load(conn: &mut DbConnection, user_id: &str) -> Result<Self, ApiError> {
        let spans = certificates::table
            .filter(certificates::user_id.eq(user_id))
            .select((certificates::level, certificates::issued_at, certificates::expires_at, certificates::revoked_at))
            .load(conn)?;
        Ok(Self { spans })
    }

    /// Held a certificate of one of `levels` that was valid at `at`: issued
    /// by then, not yet expired, and not revoked by then.
    fn holds(&self, levels: &[CertificateLevel], at: NaiveDateTime) -> bool {
        self.spans.iter().any(|(level, issued, expires, revoked)| {
            levels.contains(level) && *issued <= at && at < *expires && revoked.is_none_or(|r| at < r)
        })
    }

    /// Either level authorises supply.
    pub fn may_supply(&self, at: NaiveDateTime) -> bool {
        self.holds(&[CertificateLevel::PeerSupplier, CertificateLevel::PeerTrainer], at)
    }

    /// Only a peer_trainer certificate authorises certifying others.
    pub fn may_certify(&self, at: NaiveDateTime) -> bool {
        self.holds(&[CertificateLevel::PeerTrainer], at)
    }
}

/// May this user hand out naloxone kits at `at`?
pub fn may_supply(conn: &mut DbConnection, user_id: &str, at: NaiveDateTime) -> Result<bool, ApiError> {
    Ok(Authority::load(conn, user_id)?.may_supply(at))
}

/// May this user certify others at `at`?
pub fn may_certify(conn: &mut DbConnection, user_id: &str, at: NaiveDateTime) -> Result<bool, ApiError> {
    Ok(Authority::load(conn, user_id)?.may_certify(at))
}

/// Crockford's base32: no I, L, O or U, so a code read aloud or off a card is hard to get wrong.
const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// 20 symbols of 5 bits: 100 random bits, shown as four groups of five.
fn new_verification_code() -> String {
    let mut rng = rand::rng();
    let symbols: Vec<char> = (0..20).map(|_| CODE_ALPHABET[rng.random_range(0..32)] as char).collect();
    symbols.chunks(5).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Reads a code as people type it: any case, with or without dashes or
/// spaces, O for 0 and I or L for 1. `None` if it cannot be a code.
pub fn normalise_verification_code(typed: &str) -> Option<String> {
    let symbols: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    let valid = symbols.len() == 20 && symbols.bytes().all(|b| CODE_ALPHABET.contains(&b));
    valid.then(|| {
        symbols.as_bytes().chunks(5).map(|g| String::from_utf8_lossy(g).into_owned()).collect::<Vec<_>>().join("-")
    })
}

/// "Sam K. Jones" → "SKJ": enough to match a face, not enough to identify.
pub fn initials(display_name: &str) -> String {
    display_name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphabetic()))
        .flat_map(char::to_uppercase)
        .take(3)
        .collect()
}

fn find_row(conn: &mut DbConnection, id: &str) -> Result<Option<CertificateRow>, ApiError> {
    Ok(certificates::table.find(id).select(CertificateRow::as_select()).first(conn).optional()?)
}

fn holder_organisation(conn: &mut DbConnection, user_id: &str) -> Result<Option<String>, ApiError> {
    Ok(users::table.find(user_id).select(users::organisation_id).first::<Option<String>>(conn).optional()?.flatten())
}

/// The holder sees their own; a trainer those they issued; a coordinator
/// those of their organisation's people; an admin all.
fn can_see(conn: &mut DbConnection, principal: &Principal, row: &CertificateRow) -> Result<bool, ApiError> {
    if principal.is_admin() || row.user_id == principal.user_id || row.issued_by == principal.user_id {
        return Ok(true);
    }
    if principal.has(Role::Coordinator) && principal.organisation_id.is_some() {
        return Ok(holder_organisation(conn, &row.user_id)? == principal.organisation_id);
    }
    Ok(false)
}

/// Issues a certificate. `validity` is how long it lasts.
pub fn issue(
    conn: &mut DbConnection,
    pending: &mut Pending,
    principal: &Principal,
    new: NewCertificate,
    validity: Months,
) -> Result<Certificate, ApiError> {
    let at = now();
    if !principal.is_admin() {
        principal.require_any(&[Role::Trainer])?;
        if !may_certify(conn, &principal.user_id, at)? {
            return Err(ApiError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                "certificate_required",
                "certifying others needs a valid peer_trainer certificate",
            ));
        }
    }
    let holder_id = new.user_id.to_string();
    if holder_id == principal.user_id && !principal.is_admin() {
        return Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "self_certification",
            "a trainer cannot certify themselves",
        ));
    }
    let holder = crate::users::find_account(conn, &holder_id)?
        .filter(|a| a.active)
        .ok_or_else(|| ApiError::invalid_field("user_id", "not_found", "no such active user"))?;
    let needed = match new.level {
        CertificateLevel::PeerSupplier => Role::Peer,
        CertificateLevel::PeerTrainer => Role::Trainer,
    };
    if !holder.roles.contains(&needed) {
        return Err(ApiError::invalid_field(
            "user_id",
            "role_missing",
            &format!("a {} certificate is for a user with the {needed} role", new.level),
        ));
    }
    let training_id = new.training_id.map(|id| id.to_string());
    if let Some(training) = &training_id {
        check_attended(conn, training, &holder_id)?;
    }
    let organisation_id = principal.organisation_id.clone().or(holder.organisation_id).ok_or_else(|| {
        ApiError::invalid_field("user_id", "no_organisation", "the holder belongs to no organisation")
    })?;
    let row = CertificateRow {
        id: Uuid::now_v7().to_string(),
        user_id: holder_id,
        level: new.level,
        training_id,
        organisation_id,
        issued_by: principal.user_id.clone(),
        issued_at: at,
        expires_at: at
            .checked_add_months(validity)
            .ok_or_else(|| ApiError::internal("certificate expiry overflows"))?,
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
        verification_code: new_verification_code(),
    };
    diesel::insert_into(certificates::table).values(&row).execute(conn)?;
    count_issued(conn, pending, &row)?;
    let certificate = row.to_api(at);
    audit::record(conn, &principal.actor(), Action::Create, "certificate", &certificate.id, None, &certificate)?;
    Ok(certificate)
}

/// A certificate counts with the session it was issued on, or on its own
/// day when it names none.
fn count_issued(conn: &mut DbConnection, pending: &mut Pending, row: &CertificateRow) -> Result<(), ApiError> {
    let session: Option<(chrono::NaiveDate, String, crate::trainings::TrainingKind)> = match &row.training_id {
        Some(training) => Some(
            trainings::table
                .find(training)
                .select((trainings::delivered_on, trainings::organisation_id, trainings::kind))
                .first(conn)?,
        ),
        None => None,
    };
    match &session {
        Some((day, organisation, kind)) => {
            pending.training(conn, *day, organisation, Some(kind.as_str()), [0, 0, 1], 1)
        }
        None => pending.training(conn, row.issued_at.date(), &row.organisation_id, None, [0, 0, 1], 1),
    }
}

/// The training must exist, stand (not voided) and have had the holder in it.
fn check_attended(conn: &mut DbConnection, training_id: &str, holder_id: &str) -> Result<(), ApiError> {
    let voided_at: Option<Option<NaiveDateTime>> =
        trainings::table.find(training_id).select(trainings::voided_at).first(conn).optional()?;
    match voided_at {
        None => return Err(ApiError::invalid_field("training_id", "not_found", "no such training")),
        Some(Some(_)) => return Err(ApiError::invalid_field("training_id", "voided", "that training was voided")),
        Some(None) => {}
    }
    let attended = training_attendees::table
        .filter(training_attendees::training_id.eq(training_id))
        .filter(training_attendees::user_id.eq(holder_id))
        .select(training_attendees::user_id)
        .first::<String>(conn)
        .optional()?;
    if attended.is_none() {
        return Err(ApiError::invalid_field(
            "training_id",
            "not_attended",
            "the holder is not recorded at that training",
        ));
    }
    Ok(())
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<Certificate, ApiError> {
    let row = find_row(conn, id)?.ok_or_else(|| ApiError::not_found("certificate"))?;
    if !can_see(conn, principal, &row)? {
        return Err(ApiError::not_found("certificate"));
    }
    Ok(row.to_api(now()))
}

/// Revokes a certificate: its issuer, a coordinator of the holder's
/// organisation or an admin. Revoking again changes nothing.
pub fn revoke(conn: &mut DbConnection, principal: &Principal, id: &str, reason: &str) -> Result<Certificate, ApiError> {
    let row = find_row(conn, id)?.ok_or_else(|| ApiError::not_found("certificate"))?;
    if !can_see(conn, principal, &row)? {
        return Err(ApiError::not_found("certificate"));
    }
    let coordinator_of_holder = principal.has(Role::Coordinator)
        && principal.organisation_id.is_some()
        && row.user_id != principal.user_id
        && holder_organisation(conn, &row.user_id)? == principal.organisation_id;
    if !(principal.is_admin() || row.issued_by == principal.user_id || coordinator_of_holder) {
        return Err(ApiError::forbidden(
            "only the issuer, a coordinator of the holder's organisation or an admin may revoke",
        ));
    }
    let at = now();
    if row.revoked_at.is_some() {
        return Ok(row.to_api(at));
    }
    let before = row.to_api(at);
    diesel::update(certificates::table.find(id))
        .set((
            certificates::revoked_at.eq(at),
            certificates::revoked_by.eq(&principal.user_id),
            certificates::revoke_reason.eq(reason.trim()),
        ))
        .execute(conn)?;
    let after = find_row(conn, id)?.ok_or_else(|| ApiError::not_found("certificate"))?.to_api(at);
    audit::record(conn, &principal.actor(), Action::Revoke, "certificate", id, Some(&before), &after)?;
    Ok(after)
}

type Backend = <DbConnection as diesel::Connection>::Backend;
type Condition = Box<dyn BoxableExpression<certificates::table, Backend, SqlType = Bool>>;

/// The certificates a caller may see, as a condition on the table.
fn visible_condition(principal: &Principal) -> Condition {
    if principal.is_admin() {
        return Box::new(sql::<Bool>("1 = 1"));
    }
    let me = principal.user_id.clone();
    let mut condition: Condition = Box::new(certificates::user_id.eq(me.clone()).or(certificates::issued_by.eq(me)));
    if let (true, Some(organisation)) = (principal.has(Role::Coordinator), principal.organisation_id.clone()) {
        let people = users::table.filter(users::organisation_id.eq(organisation)).select(users::id);
        condition = Box::new(condition.or(certificates::user_id.eq_any(people)));
    }
    condition
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    filter: CertificateFilter,
    page: &crate::pagination::PageRequest,
) -> Result<crate::pagination::Page<Certificate>, ApiError> {
    let at = now();
    let mut query = certificates::table
        .select(CertificateRow::as_select())
        .filter(visible_condition(principal))
        .order(certificates::id.asc())
        .limit(page.limit + 1)
        .into_boxed();
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
    match filter.status {
        Some(CertificateStatus::Revoked) => query = query.filter(certificates::revoked_at.is_not_null()),
        Some(CertificateStatus::Expired) => {
            query = query.filter(certificates::revoked_at.is_null()).filter(certificates::expires_at.le(at))
        }
        Some(CertificateStatus::Valid) => {
            query = query.filter(certificates::revoked_at.is_null()).filter(certificates::expires_at.gt(at))
        }
        None => {}
    }
    if let Some(days) = filter.expiring_within_days {
        if days > 3650 {
            return Err(ApiError::bad_request("invalid_query", "expiring_within_days: at most 3650"));
        }
        let horizon = at + chrono::Duration::days(i64::from(days));
        query = query
            .filter(certificates::revoked_at.is_null())
            .filter(certificates::expires_at.gt(at))
            .filter(certificates::expires_at.le(horizon));
    }
    if let Some(after) = &page.after {
        query = query.filter(certificates::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(crate::pagination::Page::from_rows(rows, page, |r: &CertificateRow| &r.id).map(|r| r.to_api(at)))
}

/// A user's own certificates, newest first, and the earliest expiry among the valid ones.
pub fn of_holder(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<(Vec<Certificate>, Option<DateTime<Utc>>), ApiError> {
    let at = now();
    let rows: Vec<CertificateRow> = certificates::table
        .filter(certificates::user_id.eq(user_id))
        .order(certificates::issued_at.desc())
        .select(CertificateRow::as_select())
        .load(conn)?;
    let earliest = rows.iter().filter(|r| r.status_at(at) == CertificateStatus::Valid).map(|r| r.expires_at).min();
    Ok((rows.iter().map(|r| r.to_api(at)).collect(), earliest.map(|t| t.and_utc())))
}

/// What anyone holding the code may learn, and no more.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub status: CertificateStatus,
    pub level: CertificateLevel,
    #[schema(value_type = String, format = Date, example = "2029-11-23")]
    pub expires_on: chrono::NaiveDate,
    #[schema(example = "Kilmarnock Recovery Hub")]
    pub issuing_organisation: String,
    #[schema(example = "SK")]
    pub holder_initials: String,
}

enum Lookup {
    Id(String),
    Code(String),
}

/// A certificate with its issuing organisation's name and its holder's display name.
fn with_names(conn: &mut DbConnection, lookup: Lookup) -> Result<Option<(CertificateRow, String, String)>, ApiError> {
    let query = certificates::table
        .inner_join(organisations::table)
        .inner_join(users::table.on(users::id.eq(certificates::user_id)))
        .select((CertificateRow::as_select(), organisations::name, users::display_name))
        .into_boxed();
    let query = match lookup {
        Lookup::Id(id) => query.filter(certificates::id.eq(id)),
        Lookup::Code(code) => query.filter(certificates::verification_code.eq(code)),
    };
    Ok(query.first(conn).optional()?)
}

/// What the public check shows for a code, or `None` for no such certificate.
pub fn verification(conn: &mut DbConnection, code: &str) -> Result<Option<Verification>, ApiError> {
    let Some(code) = normalise_verification_code(code) else { return Ok(None) };
    let found = with_names(conn, Lookup::Code(code))?;
    Ok(found.map(|(row, organisation, holder)| Verification {
        status: row.status_at(now()),
        level: row.level,
        expires_on: row.expires_at.date(),
        issuing_organisation: organisation,
        holder_initials: initials(&holder),
    }))
}

/// The claims of a signed token for a certificate the caller may see and that is valid now.
pub fn token_claims(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
) -> Result<signing::CertificateClaims, ApiError> {
    get(conn, principal, id)?;
    let (row, organisation, holder) =
        with_names(conn, Lookup::Id(id.to_owned()))?.ok_or_else(|| ApiError::not_found("certificate"))?;
    if row.status_at(now()) != CertificateStatus::Valid {
        return Err(ApiError::conflict("certificate_not_valid", "only a valid certificate can be had as a token"));
    }
    Ok(signing::CertificateClaims {
        iss: signing::TOKEN_ISSUER.to_owned(),
        sub: row.id,
        iat: Utc::now().timestamp(),
        exp: row.expires_at.and_utc().timestamp(),
        level: row.level,
        holder_initials: initials(&holder),
        issuing_organisation: organisation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_random_and_read_back_however_typed() {
        let code = new_verification_code();
        assert_eq!(code.len(), 23);
        assert_ne!(code, new_verification_code());
        assert_eq!(normalise_verification_code(&code.to_lowercase().replace('-', " ")), Some(code.clone()));
        assert_eq!(normalise_verification_code("0000O-IIIII-LLLLL-22222").as_deref(), Some("00000-11111-11111-22222"));
        assert_eq!(normalise_verification_code("short"), None);
        assert_eq!(normalise_verification_code("UUUUU-UUUUU-UUUUU-UUUUU"), None);
    }

    #[test]
    fn initials_take_the_first_letters() {
        assert_eq!(initials("Sam K. Jones"), "SKJ");
        assert_eq!(initials("  élodie  "), "É");
        assert_eq!(initials("A B C D"), "ABC");
        assert_eq!(initials("123"), "");
    }
}
