//! Certificates: a peer's authority to supply naloxone (peer_supplier) or to
//! certify others (peer_trainer), issued by a trainer, with an expiry, and
//! verifiable by anyone holding its code.

pub mod signing;

use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::audit::{self, Action};
use super::error::{Code, Error};
use super::listing::Listed;
use super::pagination::{Page, PageRequest};
use super::principal::Principal;
use super::reach::Reach;
use super::stats::counting::{counting, Tally};
use super::transaction;
use super::validation::plain_text;
pub use crate::model::certificates::{CertificateLevel, CertificateStatus};
use crate::model::ids::{CertificateId, OrganisationId, TrainingId, UserId};
use crate::model::records::RecordState;
use crate::model::roles::Role;
use crate::model::time::now;
pub use crate::storage::certificates::CertificateFilter;
use crate::storage::certificates::{self as stored, CertificateRow, Lookup, Visible};
use crate::storage::{locks, trainings, users, Database, DbConnection};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Certificate {
    #[schema(value_type = uuid::Uuid)]
    pub id: CertificateId,
    /// The holder.
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    pub level: CertificateLevel,
    /// The training it was earned at, if recorded.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub training_id: Option<TrainingId>,
    /// The issuing organisation.
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: OrganisationId,
    /// The trainer (or admin) who issued it.
    #[schema(value_type = uuid::Uuid)]
    pub issued_by: UserId,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    /// Give this to anyone who needs to check the certificate.
    #[schema(example = "7K2QF-9XMBD-R4T0W-HZ3NA")]
    pub verification_code: String,
    /// As of now.
    pub status: CertificateStatus,
    /// The reason given when it was issued (an admin's, for a certificate with no training).
    pub issue_reason: Option<String>,
    /// What a certificate dated before it was recorded rests on.
    pub evidence: Option<String>,
}

/// Where a certificate stands at `at`: revoked and expired are for good;
/// one that would be valid is suspended while its holder is deactivated
/// (it is valid again if they are reactivated).
fn status_at(row: &CertificateRow, holder_active: bool, at: NaiveDateTime) -> CertificateStatus {
    match row.revoked_at {
        Some(revoked) if revoked <= at => CertificateStatus::Revoked,
        _ if row.expires_at <= at => CertificateStatus::Expired,
        _ if !holder_active => CertificateStatus::Suspended,
        _ => CertificateStatus::Valid,
    }
}

fn shown(row: &CertificateRow, holder_active: bool, at: NaiveDateTime) -> Certificate {
    Certificate {
        id: row.id.clone(),
        user_id: row.user_id.clone(),
        level: row.level,
        training_id: row.training_id.clone(),
        organisation_id: row.organisation_id.clone(),
        issued_by: row.issued_by.clone(),
        issued_at: row.issued_at.and_utc(),
        expires_at: row.expires_at.and_utc(),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
        revoke_reason: row.revoke_reason.clone(),
        verification_code: row.verification_code.clone(),
        status: status_at(row, holder_active, at),
        issue_reason: row.issue_reason.clone(),
        evidence: row.evidence.clone(),
    }
}

/// Rows with their holders' standing, to be shown.
fn shown_all(conn: &mut DbConnection, rows: &[CertificateRow], at: NaiveDateTime) -> Result<Vec<Certificate>, Error> {
    let holders: Vec<&UserId> = rows.iter().map(|r| &r.user_id).collect();
    let inactive = stored::inactive_holders(conn, &holders)?;
    Ok(rows.iter().map(|r| shown(r, !inactive.contains(&r.user_id), at)).collect())
}

fn shown_one(conn: &mut DbConnection, row: &CertificateRow, at: NaiveDateTime) -> Result<Certificate, Error> {
    Ok(shown_all(conn, std::slice::from_ref(row), at)?.remove(0))
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCertificate {
    /// The holder: a peer for peer_supplier, a trainer for peer_trainer.
    pub user_id: Uuid,
    pub level: CertificateLevel,
    /// The training the holder attended, delivered by the trainer who
    /// certifies. Only an admin may leave it out, giving a `reason`.
    pub training_id: Option<Uuid>,
    /// Why an admin certifies with no training (a certificate from before
    /// the tracker, or the first peer trainers): kept with the certificate
    /// and in the audit log.
    #[validate(length(max = 500), custom(function = "plain_text"))]
    #[schema(
        example = "peer trainer certified on paper in 2024 (scheme record 1142)",
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub reason: Option<String>,
    /// The day it was issued, when that was before today (a certificate
    /// from paper, or one recorded after the session): it is valid from
    /// the start of that day (UTC). An admin may give any day from 2000; a
    /// trainer a day from the session it names up to today.
    #[schema(value_type = Option<String>, format = Date, example = "2024-05-14")]
    pub issued_on: Option<NaiveDate>,
    /// The last day it is valid, for a certificate of another scheme with
    /// its own expiry (an admin's; at most 10 years after it was issued);
    /// otherwise the issue day plus the validity setting.
    #[schema(value_type = Option<String>, format = Date, example = "2027-05-13")]
    pub expires_on: Option<NaiveDate>,
    /// What a certificate from before the tracker rests on.
    #[validate(length(max = 500), custom(function = "plain_text"))]
    #[schema(
        example = "paper certificate, NHS Ayrshire course",
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub evidence: Option<String>,
}

/// The earliest day a certificate may be dated.
fn earliest_issue_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// When a new certificate is valid from and until. Without dates, from
/// `now` for `validity`. A date is the caller's to give within their
/// standing: an admin any day from 2000 to today and an expiry of their
/// own; a trainer a day from `session_day` (the session they certify at)
/// to today, and no expiry of their own.
fn validity_span(
    principal: &Principal,
    new: &NewCertificate,
    session_day: Option<NaiveDate>,
    validity: Months,
    now: NaiveDateTime,
) -> Result<(NaiveDateTime, NaiveDateTime), Error> {
    let today = now.date();
    let issued_at = match new.issued_on {
        None => now,
        Some(day) if day > today => {
            return Err(Error::invalid_field("issued_on", "in_future", "a certificate is dated today or before"))
        }
        Some(day) if day < earliest_issue_day() => {
            return Err(Error::invalid_field("issued_on", "too_old", "is before 2000"))
        }
        Some(day) if !principal.is_admin() && session_day.is_some_and(|session| day < session) => {
            return Err(Error::invalid_field(
                "issued_on",
                "before_training",
                "a trainer dates a certificate from the session it was earned at",
            ))
        }
        Some(day) => day.and_time(NaiveTime::MIN),
    };
    let expires_at = match new.expires_on {
        None => {
            issued_at.checked_add_months(validity).ok_or_else(|| Error::internal("certificate expiry overflows"))?
        }
        Some(_) if !principal.is_admin() => {
            return Err(Error::invalid_field(
                "expires_on",
                "not_allowed",
                "only an admin gives a certificate an expiry of its own",
            ))
        }
        Some(day) if day < issued_at.date() => {
            return Err(Error::invalid_field("expires_on", "before_issued", "must not be before the day it was issued"))
        }
        // No scheme certifies for longer; a later day is mistyped.
        Some(day) if issued_at.checked_add_months(Months::new(12 * 10)).is_none_or(|limit| day > limit.date()) => {
            return Err(Error::invalid_field("expires_on", "too_far", "a certificate lasts at most 10 years"))
        }
        Some(day) => day.succ_opt().unwrap_or(day).and_time(NaiveTime::MIN),
    };
    Ok((issued_at, expires_at))
}

/// A user's certificates as spans of time, to answer "may this user supply
/// or certify at T?" for many T with one query.
pub struct Authority {
    spans: Vec<stored::Span>,
}

impl Authority {
    pub fn load(conn: &mut DbConnection, user: &UserId) -> Result<Self, Error> {
        Ok(Self { spans: stored::spans_of(conn, user)? })
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
pub fn may_supply(conn: &mut DbConnection, user: &UserId, at: NaiveDateTime) -> Result<bool, Error> {
    Ok(Authority::load(conn, user)?.may_supply(at))
}

/// May this user certify others at `at`?
pub fn may_certify(conn: &mut DbConnection, user: &UserId, at: NaiveDateTime) -> Result<bool, Error> {
    Ok(Authority::load(conn, user)?.may_certify(at))
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

/// The holder sees their own; a trainer those they issued; a coordinator
/// those of their organisation's people; an admin all.
fn can_see(conn: &mut DbConnection, principal: &Principal, row: &CertificateRow) -> Result<bool, Error> {
    if principal.is_admin() || row.user_id == principal.user_id || row.issued_by == principal.user_id {
        return Ok(true);
    }
    if principal.has(Role::Coordinator) && principal.organisation_id.is_some() {
        return Ok(users::organisation_of(conn, &row.user_id)? == principal.organisation_id);
    }
    Ok(false)
}

fn certificate_required(detail: &str) -> Error {
    Error::Forbidden { code: Code::CertificateRequired, detail: detail.into() }
}

/// Issues a certificate. `validity` is how long it lasts. A trainer
/// certifies a person within their reach at a session they delivered and
/// the holder attended; an admin may name any session the holder attended,
/// or none with a reason.
pub async fn issue(
    db: &Database,
    principal: Principal,
    new: NewCertificate,
    validity: Months,
) -> Result<Certificate, Error> {
    transaction::write(db, move |conn| {
        counting(conn, |conn, tally| issue_in(conn, tally, &principal, new.clone(), validity))
    })
    .await
}

fn issue_in(
    conn: &mut DbConnection,
    tally: &mut Tally,
    principal: &Principal,
    new: NewCertificate,
    validity: Months,
) -> Result<Certificate, Error> {
    let at = now();
    if !principal.is_admin() {
        principal.require_any(&[Role::Trainer])?;
        if !may_certify(conn, &principal.user_id, at)? {
            return Err(certificate_required("certifying others needs a valid peer_trainer certificate"));
        }
    }
    let holder_id = UserId::from(new.user_id);
    if holder_id == principal.user_id && !principal.is_admin() {
        return Err(Error::Forbidden {
            code: Code::SelfCertification,
            detail: "a trainer cannot certify themselves".into(),
        });
    }
    let holder = users::find_account(conn, &holder_id)?
        .filter(|a| a.row.active)
        .ok_or_else(|| Error::invalid_field("user_id", "not_found", "no such active user"))?;
    let needed = match new.level {
        CertificateLevel::PeerSupplier => Role::Peer,
        CertificateLevel::PeerTrainer => Role::Trainer,
    };
    if !holder.roles.contains(&needed) {
        return Err(Error::invalid_field(
            "user_id",
            "role_missing",
            &format!("a {} certificate is for a user with the {needed} role", new.level),
        ));
    }
    if !principal.is_admin() {
        let in_reach = match &principal.organisation_id {
            Some(organisation) => Reach::of(conn, organisation)?.covers(conn, &holder_id)?,
            None => false,
        };
        if !in_reach {
            return Err(Error::invalid_field(
                "user_id",
                "out_of_scope",
                "a trainer certifies the people of their organisation and of the organisations in its area or beneath it",
            ));
        }
    }
    let training_id = new.training_id.map(TrainingId::from);
    let reason = new.reason.as_deref().map(str::trim);
    let mut session_day = None;
    match &training_id {
        Some(training) => {
            let trainer = (!principal.is_admin()).then_some(&principal.user_id);
            session_day = Some(check_attended(conn, training, &holder_id, trainer)?);
        }
        None if principal.is_admin() => {
            if reason.is_none() {
                return Err(Error::invalid_field(
                    "reason",
                    "required",
                    "say why the certificate names no training (it is kept in the audit log)",
                ));
            }
        }
        None => {
            return Err(Error::invalid_field(
                "training_id",
                "required",
                "a certificate names the training the holder attended, delivered by the trainer who certifies",
            ))
        }
    }
    let (issued_at, expires_at) = validity_span(principal, &new, session_day, validity, at)?;
    if !principal.is_admin() && issued_at < at && !may_certify(conn, &principal.user_id, issued_at)? {
        return Err(certificate_required("dating a certificate needs a valid peer_trainer certificate on that day"));
    }
    let organisation_id =
        principal.organisation_id.clone().or(holder.row.organisation_id).ok_or_else(|| {
            Error::invalid_field("user_id", "no_organisation", "the holder belongs to no organisation")
        })?;
    let row = CertificateRow {
        id: CertificateId::new_v7(),
        user_id: holder_id,
        level: new.level,
        training_id,
        organisation_id,
        issued_by: principal.user_id.clone(),
        issued_at,
        expires_at,
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
        verification_code: new_verification_code(),
        issue_reason: reason.map(str::to_owned),
        evidence: new.evidence.as_deref().map(str::trim).map(str::to_owned),
    };
    stored::insert(conn, &row)?;
    count_issued(conn, tally, &row)?;
    let certificate = shown(&row, true, at);
    audit::record(
        conn,
        &principal.actor(),
        Action::Create,
        "certificate",
        certificate.id.as_str(),
        None,
        &certificate,
    )?;
    Ok(certificate)
}

/// A certificate counts with the session it was issued on (see [`Tally::certificate`]).
fn count_issued(conn: &mut DbConnection, tally: &mut Tally, row: &CertificateRow) -> Result<(), Error> {
    let session = match &row.training_id {
        Some(training) => Some(trainings::session_of(conn, training)?),
        None => None,
    };
    let session = session.as_ref().map(|(day, organisation, kind)| (*day, organisation, *kind));
    tally.certificate(conn, session, row.issued_at.date(), &row.organisation_id)
}

/// The training must exist, be recorded (not held or voided), have been delivered by
/// `trainer` (when given) and have had the holder in it; the day it was delivered.
fn check_attended(
    conn: &mut DbConnection,
    training: &TrainingId,
    holder: &UserId,
    trainer: Option<&UserId>,
) -> Result<NaiveDate, Error> {
    let session = trainings::find(conn, training)?
        .ok_or_else(|| Error::invalid_field("training_id", "not_found", "no such training"))?;
    match session.state {
        RecordState::Recorded => {}
        RecordState::Voided => return Err(Error::invalid_field("training_id", "voided", "that training was voided")),
        RecordState::Held => {
            return Err(Error::invalid_field(
                "training_id",
                "held",
                "that training is held: a coordinator releases it before anyone is certified at it",
            ))
        }
    }
    if trainer.is_some_and(|trainer| *trainer != session.trainer_id) {
        return Err(Error::invalid_field(
            "training_id",
            "not_trainers",
            "a trainer certifies at the sessions they delivered",
        ));
    }
    if !trainings::attended(conn, training, holder)? {
        return Err(Error::invalid_field("training_id", "not_attended", "the holder is not recorded at that training"));
    }
    Ok(session.delivered_on)
}

impl Listed for Certificate {
    type Id = CertificateId;
    type Filter = CertificateFilter;
    const NAME: &'static str = "certificate";

    fn find(conn: &mut DbConnection, principal: &Principal, id: &CertificateId) -> Result<Option<Certificate>, Error> {
        match stored::find(conn, id)? {
            Some(row) if can_see(conn, principal, &row)? => Ok(Some(shown_one(conn, &row, now())?)),
            _ => Ok(None),
        }
    }

    /// The caller's own, those they issued, and for a coordinator those of their organisation's people.
    fn list(
        conn: &mut DbConnection,
        principal: &Principal,
        filter: &CertificateFilter,
        page: &PageRequest,
    ) -> Result<Page<Certificate>, Error> {
        if filter.expiring_within_days.is_some_and(|days| days > 3650) {
            return Err(Error::bad_query("expiring_within_days: at most 3650"));
        }
        let visible = if principal.is_admin() {
            Visible::All
        } else {
            let organisation = principal.organisation_id.clone().filter(|_| principal.has(Role::Coordinator));
            Visible::Of { user: principal.user_id.clone(), organisation }
        };
        let at = now();
        let rows = stored::list(conn, &visible, filter, at, page.paging())?;
        let page = Page::from_rows(rows, page, |r| r.id.as_str());
        Ok(Page { items: shown_all(conn, &page.items, at)?, next_cursor: page.next_cursor })
    }
}

/// Revokes a certificate: its issuer, a coordinator of the holder's
/// organisation or an admin. Revoking again changes nothing.
pub async fn revoke(
    db: &Database,
    principal: Principal,
    id: CertificateId,
    reason: String,
) -> Result<Certificate, Error> {
    transaction::write(db, move |conn| revoke_in(conn, &principal, &id, &reason)).await
}

fn revoke_in(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &CertificateId,
    reason: &str,
) -> Result<Certificate, Error> {
    // Held, so that two revocations at once store and audit one.
    locks::row(conn, locks::Table::Certificates, id.as_str())?;
    let row = stored::find(conn, id)?.ok_or(Error::NotFound("certificate"))?;
    if !can_see(conn, principal, &row)? {
        return Err(Error::NotFound("certificate"));
    }
    let coordinator_of_holder = principal.has(Role::Coordinator)
        && principal.organisation_id.is_some()
        && row.user_id != principal.user_id
        && users::organisation_of(conn, &row.user_id)? == principal.organisation_id;
    if !(principal.is_admin() || row.issued_by == principal.user_id || coordinator_of_holder) {
        return Err(Error::forbidden(
            "only the issuer, a coordinator of the holder's organisation or an admin may revoke",
        ));
    }
    let at = now();
    if row.revoked_at.is_some() {
        return shown_one(conn, &row, at);
    }
    let before = shown_one(conn, &row, at)?;
    stored::revoke(conn, id, &principal.user_id, at, reason.trim())?;
    let revoked = stored::find(conn, id)?.ok_or(Error::NotFound("certificate"))?;
    let after = shown_one(conn, &revoked, at)?;
    audit::record(conn, &principal.actor(), Action::Revoke, "certificate", id.as_str(), Some(&before), &after)?;
    Ok(after)
}

/// A user's own certificates, newest first, and the earliest expiry among the valid ones.
pub fn of_holder(conn: &mut DbConnection, user: &UserId) -> Result<(Vec<Certificate>, Option<DateTime<Utc>>), Error> {
    let at = now();
    let rows = stored::of_holder(conn, user)?;
    let certificates = shown_all(conn, &rows, at)?;
    let earliest = certificates.iter().filter(|c| c.status == CertificateStatus::Valid).map(|c| c.expires_at).min();
    Ok((certificates, earliest))
}

/// What anyone holding the code may learn, and no more.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub status: CertificateStatus,
    pub level: CertificateLevel,
    #[schema(value_type = String, format = Date, example = "2029-11-23")]
    pub expires_on: NaiveDate,
    #[schema(example = "Kilmarnock Recovery Hub")]
    pub issuing_organisation: String,
    #[schema(example = "SK")]
    pub holder_initials: String,
}

/// The last day a certificate is valid on: an expiry at midnight ends the day before.
fn last_valid_day(row: &CertificateRow) -> NaiveDate {
    (row.expires_at - chrono::Duration::microseconds(1)).date()
}

/// What the public check shows for a code, or `None` for no such certificate.
pub fn verification(conn: &mut DbConnection, code: &str) -> Result<Option<Verification>, Error> {
    let Some(code) = normalise_verification_code(code) else { return Ok(None) };
    let found = stored::with_names(conn, Lookup::Code(&code))?;
    Ok(found.map(|(row, organisation, holder, holder_active)| Verification {
        status: status_at(&row, holder_active, now()),
        level: row.level,
        expires_on: last_valid_day(&row),
        issuing_organisation: organisation,
        holder_initials: initials(&holder),
    }))
}

/// The claims of a signed token for a certificate the caller may see and that is valid now.
pub fn token_claims(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &CertificateId,
) -> Result<signing::CertificateClaims, Error> {
    Certificate::find(conn, principal, id)?.ok_or(Error::NotFound("certificate"))?;
    let (row, organisation, holder, holder_active) =
        stored::with_names(conn, Lookup::Id(id))?.ok_or(Error::NotFound("certificate"))?;
    if status_at(&row, holder_active, now()) != CertificateStatus::Valid {
        return Err(Error::conflict(Code::CertificateNotValid, "only a valid certificate can be had as a token"));
    }
    Ok(signing::CertificateClaims {
        iss: signing::TOKEN_ISSUER.to_owned(),
        sub: row.id.to_string(),
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

    fn caller(role: Role) -> Principal {
        Principal {
            user_id: UserId::new_v7(),
            roles: vec![role],
            organisation_id: None,
            area_id: None,
            request_id: None,
        }
    }

    fn asked(issued_on: Option<&str>, expires_on: Option<&str>) -> NewCertificate {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        NewCertificate {
            user_id: Uuid::nil(),
            level: CertificateLevel::PeerSupplier,
            training_id: None,
            reason: None,
            issued_on: issued_on.map(day),
            expires_on: expires_on.map(day),
            evidence: None,
        }
    }

    #[test]
    fn certificates_are_dated_within_the_callers_standing() {
        let now = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap().and_hms_opt(9, 30, 0).unwrap();
        let (admin, trainer) = (caller(Role::Admin), caller(Role::Trainer));
        let span = |who: &Principal, new: NewCertificate, session: Option<&str>| {
            let session = session.map(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap());
            validity_span(who, &new, session, Months::new(36), now)
                .map(|(from, until)| (from.to_string(), until.to_string()))
                .map_err(|error| match error {
                    Error::Invalid(errors) => format!("{} {}", errors[0].field, errors[0].code),
                    other => other.to_string(),
                })
        };
        let dated = |from: &str, until: &str| Ok((from.to_owned(), until.to_owned()));
        assert_eq!(span(&trainer, asked(None, None), None), dated("2026-12-03 09:30:00", "2029-12-03 09:30:00"));
        assert_eq!(
            span(&admin, asked(Some("2024-05-14"), Some("2027-05-13")), None),
            dated("2024-05-14 00:00:00", "2027-05-14 00:00:00"),
            "valid through its last day"
        );
        assert_eq!(
            span(&admin, asked(Some("2024-05-14"), None), None),
            dated("2024-05-14 00:00:00", "2027-05-14 00:00:00")
        );
        assert_eq!(
            span(&trainer, asked(Some("2026-11-30"), None), Some("2026-11-30")),
            dated("2026-11-30 00:00:00", "2029-11-30 00:00:00")
        );
        for (who, new, session, refusal) in [
            (&trainer, asked(Some("2026-11-29"), None), Some("2026-11-30"), "issued_on before_training"),
            (&trainer, asked(None, Some("2027-01-01")), Some("2026-11-30"), "expires_on not_allowed"),
            (&admin, asked(Some("2026-12-04"), None), None, "issued_on in_future"),
            (&admin, asked(Some("1999-12-31"), None), None, "issued_on too_old"),
            (&admin, asked(Some("2024-05-14"), Some("2024-05-13")), None, "expires_on before_issued"),
            (&admin, asked(Some("2024-05-14"), Some("2034-05-15")), None, "expires_on too_far"),
        ] {
            assert_eq!(span(who, new, session), Err(refusal.to_owned()));
        }
    }

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
