//! Kit handouts: what a peer records, often offline, at an outreach round,
//! in a hostel or at a prison gate. Only the where, what and how many are
//! required; everything about the recipient is optional.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use std::collections::{HashMap, HashSet};

use crate::audit::{self, Action};
use crate::auth::{Principal, Role};
use crate::certificates::Authority;
use crate::db::{now, truncate_to_micros, DbConnection, ROWS_PER_INSERT};
use crate::error::{responses, ApiError, FieldError};
use crate::extract::ValidJson;
use crate::organisations::Organisation;
use crate::pagination::{ListQuery, Page, PageParams, PageRequest};
use crate::patch::double_option;
use crate::records::{self, PeerScope, Submission, VoidRequest};
use crate::schema::{kit_issues, products, stock_movements};
use crate::server::AppState;
use crate::stats::{counting, Pending};
use crate::stock::{self, LedgerKind};

crate::text_enum! {
    pub enum KitSetting {
        Outreach = "outreach",
        HubDropIn = "hub_drop_in",
        HomeVisit = "home_visit",
        HospitalInReach = "hospital_in_reach",
        PrisonRelease = "prison_release",
        Pharmacy = "pharmacy",
        Event = "event",
        Other = "other",
    }
}

crate::text_enum! {
    pub enum RecipientType {
        PersonAtRisk = "person_at_risk",
        FamilyFriend = "family_friend",
        ServiceWorker = "service_worker",
        Unknown = "unknown",
    }
}

crate::text_enum! {
    pub enum Supply {
        First = "first",
        Repeat = "repeat",
    }
}

crate::text_enum! {
    pub enum RepeatReason {
        UsedOnOverdose = "used_on_overdose",
        Lost = "lost",
        Stolen = "stolen",
        Confiscated = "confiscated",
        Expired = "expired",
        Damaged = "damaged",
        Other = "other",
    }
}

crate::text_enum! {
    pub enum AgeBand {
        Under18 = "under_18",
        From18To24 = "18_to_24",
        From25To34 = "25_to_34",
        From35To44 = "35_to_44",
        From45To54 = "45_to_54",
        From55To64 = "55_to_64",
        From65 = "65_or_over",
    }
}

crate::text_enum! {
    pub enum Gender {
        Female = "female",
        Male = "male",
        NonBinary = "non_binary",
        Other = "other",
        NotStated = "not_stated",
    }
}

/// The most kits one record may hold (a tally for a whole outreach round).
const MAX_KITS: i32 = 500;

/// A handout as stored and shown. The recipient code is kept only as a
/// keyed hash and never shown.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = kit_issues, treat_none_as_null = true)]
pub struct KitIssue {
    pub id: String,
    /// The peer who handed the kits out.
    pub distributor_id: String,
    pub organisation_id: String,
    /// When, by the phone's clock.
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub issued_at: NaiveDateTime,
    pub area_id: String,
    #[schema(example = "KA1")]
    pub postcode_district: Option<String>,
    pub setting: KitSetting,
    pub product_id: String,
    pub batch_id: Option<String>,
    /// Number of kits.
    pub quantity: i32,
    pub recipient_type: RecipientType,
    pub consent_recorded: Option<bool>,
    pub supply: Option<Supply>,
    pub repeat_reason: Option<RepeatReason>,
    pub brief_training_given: Option<bool>,
    #[serde(skip)]
    pub recipient_code_hash: Option<String>,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
    #[serde(skip)]
    pub request_fingerprint: String,
    /// When the server stored it.
    #[serde(rename = "received_at", with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub updated_at: NaiveDateTime,
    #[serde(with = "crate::time::utc_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub voided_at: Option<NaiveDateTime>,
    pub void_reason: Option<String>,
}

/// A handout as a phone submits it. Only `id`, `issued_at`, `area_id`,
/// `setting`, `product_id` and `quantity` are required.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKitIssue {
    /// Made by the phone, so that sending the record again is harmless.
    pub id: Uuid,
    /// RFC 3339; at most 5 minutes ahead of the server's clock.
    pub issued_at: DateTime<Utc>,
    pub area_id: Uuid,
    /// The outward part of a postcode only (`KA1`, `ZE1`, `CF10`), never a full postcode.
    #[schema(example = "KA1")]
    pub postcode_district: Option<String>,
    pub setting: KitSetting,
    pub product_id: Uuid,
    /// Needed when the organisation tracks stock.
    pub batch_id: Option<Uuid>,
    #[validate(range(min = 1, max = 500))]
    #[schema(minimum = 1, maximum = 500)]
    pub quantity: i32,
    /// Defaults to `unknown`.
    pub recipient_type: Option<RecipientType>,
    /// Needed (true) for a family or friend.
    pub consent_recorded: Option<bool>,
    pub supply: Option<Supply>,
    /// Needed for a repeat supply, refused otherwise.
    pub repeat_reason: Option<RepeatReason>,
    pub brief_training_given: Option<bool>,
    /// A pseudonymous code (e.g. three letters of a surname and four
    /// birth-date digits). Stored only as a keyed hash.
    #[validate(length(min = 2, max = 32))]
    #[schema(write_only, example = "SMI0412", min_length = 2, max_length = 32)]
    pub recipient_code: Option<String>,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
}

/// Corrections; absent fields stay as they are, `null` clears.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KitIssuePatch {
    pub issued_at: Option<DateTime<Utc>>,
    pub area_id: Option<Uuid>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub postcode_district: Option<Option<String>>,
    pub setting: Option<KitSetting>,
    pub product_id: Option<Uuid>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub batch_id: Option<Option<Uuid>>,
    #[validate(range(min = 1, max = 500))]
    #[schema(minimum = 1, maximum = 500)]
    pub quantity: Option<i32>,
    pub recipient_type: Option<RecipientType>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<bool>)]
    pub consent_recorded: Option<Option<bool>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Supply>)]
    pub supply: Option<Option<Supply>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<RepeatReason>)]
    pub repeat_reason: Option<Option<RepeatReason>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<bool>)]
    pub brief_training_given: Option<Option<bool>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<AgeBand>)]
    pub age_band: Option<Option<AgeBand>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<Option<Gender>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KitIssueFilter {
    /// Issued on or after this date (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Issued on or before this date (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    pub distributor_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub setting: Option<KitSetting>,
    pub recipient_type: Option<RecipientType>,
    pub supply: Option<Supply>,
    /// true: only voided; false: only standing; absent: both.
    pub voided: Option<bool>,
}

/// The rules between fields, on a handout as it would be stored.
fn rule_errors(issue: &KitIssue) -> Vec<FieldError> {
    let mut errors = Vec::new();
    // With an unknown recipient, no consent or repeat rule applies.
    if issue.recipient_type == RecipientType::FamilyFriend && issue.consent_recorded != Some(true) {
        errors.push(FieldError::new(
            "consent_recorded",
            "required",
            "record consent for a kit given to a family member or friend",
        ));
    }
    let repeat = issue.supply == Some(Supply::Repeat);
    if repeat && issue.repeat_reason.is_none() && issue.recipient_type != RecipientType::Unknown {
        errors.push(FieldError::new("repeat_reason", "required", "give the reason for a repeat supply"));
    }
    if !repeat && issue.repeat_reason.is_some() {
        errors.push(FieldError::new("repeat_reason", "not_allowed", "a reason is only for a repeat supply"));
    }
    errors.extend(issue.postcode_district.as_deref().and_then(records::check_postcode_district));
    errors.extend(records::check_event_time("issued_at", issue.issued_at));
    if !(1..=MAX_KITS).contains(&issue.quantity) {
        errors.push(FieldError::new("quantity", "range", "must be 1 to 500 kits"));
    }
    errors
}

/// The keyed hash a recipient code is stored as: enough to tell one
/// recipient from another, useless without the server's key.
pub fn hash_recipient_code(key: &[u8], code: &str) -> Result<String, ApiError> {
    let normalised: String = code.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(ApiError::internal)?;
    mac.update(normalised.as_bytes());
    Ok(mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<KitIssue>, ApiError> {
    Ok(kit_issues::table.find(id).select(KitIssue::as_select()).first(conn).optional()?)
}

fn certificate_required() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::FORBIDDEN,
        "certificate_required",
        "handing out kits needs a valid peer_supplier or peer_trainer certificate at the time of the handout",
    )
}

/// What a handout refers to, looked up once per request: a sync batch of
/// a hundred handouts names the same peer, area and product a hundred times.
#[derive(Default)]
pub struct Lookups {
    authorities: HashMap<String, Authority>,
    areas: HashSet<String>,
    products: HashSet<String>,
    organisations: HashMap<String, Organisation>,
}

impl Lookups {
    fn authority(&mut self, conn: &mut DbConnection, user_id: &str) -> Result<&Authority, ApiError> {
        if !self.authorities.contains_key(user_id) {
            let authority = Authority::load(conn, user_id)?;
            self.authorities.insert(user_id.to_owned(), authority);
        }
        Ok(&self.authorities[user_id])
    }

    fn area_exists(&mut self, conn: &mut DbConnection, id: &str) -> Result<bool, ApiError> {
        if !self.areas.contains(id) && crate::areas::find(conn, id)?.is_some() {
            self.areas.insert(id.to_owned());
        }
        Ok(self.areas.contains(id))
    }

    fn product_exists(&mut self, conn: &mut DbConnection, id: &str) -> Result<bool, ApiError> {
        if !self.products.contains(id)
            && products::table.find(id).select(products::id).first::<String>(conn).optional()?.is_some()
        {
            self.products.insert(id.to_owned());
        }
        Ok(self.products.contains(id))
    }

    fn organisation(&mut self, conn: &mut DbConnection, id: &str) -> Result<Option<Organisation>, ApiError> {
        if !self.organisations.contains_key(id) {
            if let Some(organisation) = crate::organisations::find(conn, id)? {
                self.organisations.insert(id.to_owned(), organisation);
            }
        }
        Ok(self.organisations.get(id).cloned())
    }
}

/// What only the database can tell: the references exist and fit, and
/// the distributor was certified at the time. True when the handout must
/// draw on the distributor's stock (its organisation tracks stock).
fn check_references(conn: &mut DbConnection, lookups: &mut Lookups, issue: &KitIssue) -> Result<bool, ApiError> {
    if !lookups.authority(conn, &issue.distributor_id)?.may_supply(issue.issued_at) {
        return Err(certificate_required());
    }
    if !lookups.area_exists(conn, &issue.area_id)? {
        return Err(ApiError::invalid_field("area_id", "not_found", "no such area"));
    }
    if !lookups.product_exists(conn, &issue.product_id)? {
        return Err(ApiError::invalid_field("product_id", "not_found", "no such product"));
    }
    let organisation = lookups
        .organisation(conn, &issue.organisation_id)?
        .ok_or_else(|| ApiError::invalid_field("organisation_id", "not_found", "no such organisation"))?;
    let Some(batch_id) = &issue.batch_id else {
        if organisation.tracks_stock {
            return Err(ApiError::invalid_field(
                "batch_id",
                "required",
                "this organisation tracks stock: say which batch",
            ));
        }
        return Ok(false);
    };
    let batch = stock::find_batch(conn, batch_id)?
        .filter(|b| b.organisation_id == issue.organisation_id)
        .ok_or_else(|| ApiError::invalid_field("batch_id", "not_found", "no such batch in this organisation"))?;
    if batch.product_id != issue.product_id {
        return Err(ApiError::invalid_field("batch_id", "product_mismatch", "the batch is of another product"));
    }
    if batch.expires_on < issue.issued_at.date() {
        return Err(ApiError::invalid_field(
            "batch_id",
            "batch_expired",
            "the batch had expired when the kits were handed out",
        ));
    }
    if batch.recalled_at.is_some_and(|recalled| recalled <= issue.issued_at) {
        return Err(ApiError::invalid_field("batch_id", "batch_recalled", "the batch had been recalled"));
    }
    Ok(organisation.tracks_stock)
}

/// Takes a stored handout's kits from its distributor's allocation.
fn take_stock(conn: &mut DbConnection, issue: &KitIssue) -> Result<(), ApiError> {
    match &issue.batch_id {
        Some(batch_id) => {
            stock::issue_from_allocation(conn, batch_id, &issue.distributor_id, issue.quantity, &issue.id)
        }
        None => Ok(()),
    }
}

/// Puts back whatever stock a handout took (nothing, if its organisation
/// did not track stock when it was recorded).
fn reverse_stock(conn: &mut DbConnection, issue: &KitIssue, recorded_by: &str) -> Result<(), ApiError> {
    let entries: Vec<(LedgerKind, String, Option<String>, i32)> = stock_movements::table
        .filter(stock_movements::kit_issue_id.eq(&issue.id))
        .select((stock_movements::kind, stock_movements::batch_id, stock_movements::user_id, stock_movements::quantity))
        .load(conn)?;
    let mut net: Vec<(String, String, i32)> = Vec::new();
    for (kind, batch, user, quantity) in entries {
        let Some(user) = user else { continue };
        let signed = if kind == LedgerKind::Issue { quantity } else { -quantity };
        match net.iter_mut().find(|(b, u, _)| *b == batch && *u == user) {
            Some(entry) => entry.2 += signed,
            None => net.push((batch, user, signed)),
        }
    }
    for (batch, user, quantity) in net.into_iter().filter(|(_, _, q)| *q > 0) {
        stock::reverse_issue(conn, &batch, &user, quantity, &issue.id, recorded_by)?;
    }
    Ok(())
}

/// A handout as it would be stored, worked out before the database is
/// asked: a sync call drafts its whole queue before it takes the writer.
#[derive(Clone)]
pub struct Draft {
    id: String,
    /// Tells a retry (same body) from another record reusing the id.
    fingerprint: String,
    /// The row and its audit entry, or why it may not be stored (said only
    /// if the id is new).
    issue: Result<(KitIssue, audit::Entry), ApiError>,
}

/// Drafts one handout: who sends it, its fingerprint, its row and its rules.
pub fn draft(principal: &Principal, key: &[u8], new: &NewKitIssue) -> Result<Draft, ApiError> {
    // Only peers hand out kits (DESIGN): a trainer or coordinator who does
    // holds the peer role as well.
    principal.require_any(&[Role::Peer])?;
    let id = new.id.to_string();
    let code_hash = new.recipient_code.as_deref().map(|code| hash_recipient_code(key, code)).transpose()?;
    // The fingerprint never sees the code as typed: only its keyed hash.
    let fingerprint =
        records::fingerprint(&principal.user_id, &NewKitIssue { recipient_code: code_hash.clone(), ..new.clone() })?;
    let issue = principal.organisation_id.clone().ok_or_else(certificate_required).and_then(|organisation_id| {
        let at = now();
        let issue = KitIssue {
            id: id.clone(),
            distributor_id: principal.user_id.clone(),
            organisation_id,
            issued_at: truncate_to_micros(new.issued_at.naive_utc()),
            area_id: new.area_id.to_string(),
            postcode_district: new.postcode_district.as_deref().map(records::normalise_district),
            setting: new.setting,
            product_id: new.product_id.to_string(),
            batch_id: new.batch_id.map(|b| b.to_string()),
            quantity: new.quantity,
            recipient_type: new.recipient_type.unwrap_or(RecipientType::Unknown),
            consent_recorded: new.consent_recorded,
            supply: new.supply,
            repeat_reason: new.repeat_reason,
            brief_training_given: new.brief_training_given,
            recipient_code_hash: code_hash,
            age_band: new.age_band,
            gender: new.gender,
            request_fingerprint: fingerprint.clone(),
            created_at: at,
            updated_at: at,
            voided_at: None,
            void_reason: None,
        };
        let errors = rule_errors(&issue);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let entry = audit::Entry::new(&principal.actor(), Action::Create, "kit_issue", &issue.id, None, &issue)?;
        Ok((issue, entry))
    });
    Ok(Draft { id, fingerprint, issue })
}

/// SQLite, in-process, reuses one prepared single-row statement (diesel
/// prepares a multi-row INSERT afresh each time); PostgreSQL takes many
/// rows per statement, one round trip for them all.
fn insert(conn: &mut DbConnection, issues: &[KitIssue]) -> Result<(), ApiError> {
    match conn {
        DbConnection::Sqlite(sqlite) => {
            for issue in issues {
                diesel::insert_into(kit_issues::table).values(issue).execute(sqlite)?;
            }
        }
        DbConnection::Postgresql(pg) => {
            for part in issues.chunks(ROWS_PER_INSERT) {
                diesel::insert_into(kit_issues::table).values(part).execute(pg)?;
            }
        }
    }
    Ok(())
}

/// Records a handout, or recognises a resubmission of one.
pub fn submit(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    pending: &mut Pending,
    principal: &Principal,
    key: &[u8],
    new: &NewKitIssue,
) -> Result<Submission<KitIssue>, ApiError> {
    submit_drafted(conn, lookups, pending, &draft(principal, key, new)?)
}

/// Records one drafted handout, or recognises a resubmission of it.
fn submit_drafted(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    pending: &mut Pending,
    drafted: &Draft,
) -> Result<Submission<KitIssue>, ApiError> {
    let mut outcomes = submit_all(conn, lookups, pending, &[drafted])?;
    outcomes.pop().unwrap_or_else(|| Err(ApiError::internal("a handout went unanswered")))
}

/// Records drafted handouts, or recognises resubmissions of them: one
/// outcome per handout, in order, each judged on its own. A phone's whole
/// queue comes here at once, so the database is asked once for the ids it
/// holds, and the new handouts go in together with their audit entries. A
/// handout that draws on stock is written on its own, in a savepoint: too
/// few kits refuse it and leave nothing of it behind. The outer error is
/// the database failing, or a race for an id lost: nothing of the call may
/// stand.
pub fn submit_all(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    pending: &mut Pending,
    drafts: &[&Draft],
) -> Result<Vec<Result<Submission<KitIssue>, ApiError>>, ApiError> {
    // The stored handouts, and those this call stores.
    let mut known: HashMap<String, KitIssue> = HashMap::new();
    for part in drafts.chunks(ROWS_PER_INSERT) {
        let ids = part.iter().map(|d| d.id.as_str());
        let stored = kit_issues::table.filter(kit_issues::id.eq_any(ids)).select(KitIssue::as_select()).load(conn)?;
        known.extend(stored.into_iter().map(|issue| (issue.id.clone(), issue)));
    }
    let mut outcomes = Vec::with_capacity(drafts.len());
    let mut together = Vec::new();
    let mut entries = Vec::new();
    for &drafted in drafts {
        let outcome = match known.get(&drafted.id) {
            Some(existing) if existing.request_fingerprint == drafted.fingerprint => {
                Ok(Submission::Duplicate(existing.clone()))
            }
            Some(_) => Err(records::id_conflict(&format!("/api/v1/kit-issues/{}", drafted.id))),
            None => drafted.issue.clone().and_then(|(issue, entry)| {
                if check_references(conn, lookups, &issue)? {
                    conn.transaction(|c| {
                        insert(c, std::slice::from_ref(&issue))?;
                        take_stock(c, &issue)
                    })?;
                } else {
                    together.push(issue.clone());
                }
                pending.kit_issue(conn, &issue, 1)?;
                entries.push(entry);
                known.insert(issue.id.clone(), issue.clone());
                Ok(Submission::Created(issue))
            }),
        };
        match outcome {
            Err(error) if records::ends_the_call(&error) => return Err(error),
            outcome => outcomes.push(outcome),
        }
    }
    insert(conn, &together)?;
    audit::record_all(conn, &entries)?;
    Ok(outcomes)
}

/// The author may change a handout for 7 days; a coordinator of its organisation or an admin at any time.
fn correctable(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<KitIssue, ApiError> {
    let scope = PeerScope::of(principal, "handouts")?;
    let issue = find(conn, id)?
        .filter(|i| scope.covers(&i.distributor_id, &i.organisation_id))
        .ok_or_else(|| ApiError::not_found("kit issue"))?;
    if !records::may_correct(principal, &issue.distributor_id, &issue.organisation_id, issue.created_at) {
        return Err(ApiError::forbidden("the peer may change a handout for 7 days; after that, a coordinator"));
    }
    Ok(issue)
}

fn correct(
    conn: &mut DbConnection,
    pending: &mut Pending,
    principal: &Principal,
    id: &str,
    patch: KitIssuePatch,
) -> Result<KitIssue, ApiError> {
    let before = correctable(conn, principal, id)?;
    if before.voided_at.is_some() {
        return Err(records::already_voided());
    }
    let mut after = before.clone();
    if let Some(at) = patch.issued_at {
        after.issued_at = truncate_to_micros(at.naive_utc());
    }
    if let Some(area) = patch.area_id {
        after.area_id = area.to_string();
    }
    if let Some(district) = patch.postcode_district {
        after.postcode_district = district.as_deref().map(records::normalise_district);
    }
    if let Some(setting) = patch.setting {
        after.setting = setting;
    }
    if let Some(product) = patch.product_id {
        after.product_id = product.to_string();
    }
    if let Some(batch) = patch.batch_id {
        after.batch_id = batch.map(|b| b.to_string());
    }
    if let Some(quantity) = patch.quantity {
        after.quantity = quantity;
    }
    if let Some(recipient) = patch.recipient_type {
        after.recipient_type = recipient;
    }
    if let Some(consent) = patch.consent_recorded {
        after.consent_recorded = consent;
    }
    if let Some(supply) = patch.supply {
        after.supply = supply;
    }
    if let Some(reason) = patch.repeat_reason {
        after.repeat_reason = reason;
    }
    if let Some(training) = patch.brief_training_given {
        after.brief_training_given = training;
    }
    if let Some(band) = patch.age_band {
        after.age_band = band;
    }
    if let Some(gender) = patch.gender {
        after.gender = gender;
    }
    let errors = rule_errors(&after);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    after.updated_at = now();
    let draws_on_stock = check_references(conn, &mut Lookups::default(), &after)?;
    reverse_stock(conn, &before, &principal.user_id)?;
    diesel::update(kit_issues::table.find(id)).set(&after).execute(conn)?;
    if draws_on_stock {
        take_stock(conn, &after)?;
    }
    pending.kit_issue(conn, &before, -1)?;
    pending.kit_issue(conn, &after, 1)?;
    audit::record(conn, &principal.actor(), Action::Update, "kit_issue", id, Some(&before), &after)?;
    Ok(after)
}

fn void(
    conn: &mut DbConnection,
    pending: &mut Pending,
    principal: &Principal,
    id: &str,
    reason: &str,
) -> Result<KitIssue, ApiError> {
    let before = correctable(conn, principal, id)?;
    if before.voided_at.is_some() {
        return Ok(before);
    }
    let at = now();
    let after =
        KitIssue { voided_at: Some(at), void_reason: Some(reason.trim().to_owned()), updated_at: at, ..before.clone() };
    reverse_stock(conn, &before, &principal.user_id)?;
    diesel::update(kit_issues::table.find(id)).set(&after).execute(conn)?;
    pending.kit_issue(conn, &before, -1)?;
    audit::record(conn, &principal.actor(), Action::Void, "kit_issue", id, Some(&before), &after)?;
    Ok(after)
}

fn list_in_scope(
    conn: &mut DbConnection,
    scope: PeerScope,
    filter: KitIssueFilter,
    page: &PageRequest,
) -> Result<Page<KitIssue>, ApiError> {
    let mut query =
        kit_issues::table.select(KitIssue::as_select()).order(kit_issues::id.asc()).limit(page.limit + 1).into_boxed();
    match scope {
        PeerScope::All => {}
        PeerScope::Organisation(organisation) => query = query.filter(kit_issues::organisation_id.eq(organisation)),
        PeerScope::Own(me) => query = query.filter(kit_issues::distributor_id.eq(me)),
    }
    let (start, end) = records::day_bounds(filter.from, filter.to);
    if let Some(start) = start {
        query = query.filter(kit_issues::issued_at.ge(start));
    }
    if let Some(end) = end {
        query = query.filter(kit_issues::issued_at.lt(end));
    }
    if let Some(distributor) = filter.distributor_id {
        query = query.filter(kit_issues::distributor_id.eq(distributor.to_string()));
    }
    if let Some(organisation) = filter.organisation_id {
        query = query.filter(kit_issues::organisation_id.eq(organisation.to_string()));
    }
    if let Some(area) = filter.area_id {
        query = query.filter(kit_issues::area_id.eq(area.to_string()));
    }
    if let Some(setting) = filter.setting {
        query = query.filter(kit_issues::setting.eq(setting));
    }
    if let Some(recipient) = filter.recipient_type {
        query = query.filter(kit_issues::recipient_type.eq(recipient));
    }
    if let Some(supply) = filter.supply {
        query = query.filter(kit_issues::supply.eq(supply));
    }
    match filter.voided {
        Some(true) => query = query.filter(kit_issues::voided_at.is_not_null()),
        Some(false) => query = query.filter(kit_issues::voided_at.is_null()),
        None => {}
    }
    if let Some(after) = &page.after {
        query = query.filter(kit_issues::id.gt(after.clone()));
    }
    Ok(Page::from_rows(query.load(conn)?, page, |i: &KitIssue| &i.id))
}

/// Records a handout. The same id with the same body again answers 200
/// with the stored record; with another body, 409.
#[utoipa::path(
    post, path = "/api/v1/kit-issues", tag = "kit issues", operation_id = "create_kit_issue",
    request_body = NewKitIssue,
    responses(
        (status = 201, description = "Recorded", body = KitIssue, headers(("Location" = String, description = "The record's URL"))),
        (status = 200, description = "Already recorded: the stored record", body = KitIssue),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<NewKitIssue>,
) -> Result<HttpResponse, ApiError> {
    let drafted = std::sync::Arc::new(draft(&principal, &state.recipient_code_key, &body.into_inner())?);
    let outcome = state
        .db
        .write_retrying_race(move |conn| {
            counting(conn, |conn, pending| submit_drafted(conn, &mut Lookups::default(), pending, &drafted))
        })
        .await?;
    Ok(outcome.into_response("/api/v1/kit-issues", |record| &record.id))
}

/// Lists handouts: a peer their own, a coordinator their organisation's, an admin all.
#[utoipa::path(
    get, path = "/api/v1/kit-issues", tag = "kit issues", operation_id = "list_kit_issues",
    params(KitIssueFilter, PageParams),
    responses(
        (status = 200, description = "A page of handouts, oldest record first", body = Page<KitIssue>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery<KitIssueFilter>,
) -> Result<HttpResponse, ApiError> {
    let scope = PeerScope::of(&principal, "handouts")?;
    let ListQuery { filter, page } = query;
    let result = state.db.run(move |conn| list_in_scope(conn, scope, filter, &page)).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Reads a handout (voided ones too).
#[utoipa::path(
    get, path = "/api/v1/kit-issues/{id}", tag = "kit issues", operation_id = "get_kit_issue",
    params(("id" = Uuid, Path, description = "Kit issue id")),
    responses(
        (status = 200, description = "The handout", body = KitIssue),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let scope = PeerScope::of(&principal, "handouts")?;
    let id = id.into_inner().to_string();
    let issue = state
        .db
        .run(move |conn| {
            find(conn, &id)?
                .filter(|i| scope.covers(&i.distributor_id, &i.organisation_id))
                .ok_or_else(|| ApiError::not_found("kit issue"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(issue))
}

/// Corrects a handout; its stock moves with it.
#[utoipa::path(
    patch, path = "/api/v1/kit-issues/{id}", tag = "kit issues", operation_id = "update_kit_issue",
    params(("id" = Uuid, Path, description = "Kit issue id")),
    request_body = KitIssuePatch,
    responses(
        (status = 200, description = "The corrected handout", body = KitIssue),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<KitIssuePatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let patch = body.into_inner();
    let issue = state
        .db
        .write(move |conn| counting(conn, |conn, pending| correct(conn, pending, &principal, &id, patch)))
        .await?;
    Ok(HttpResponse::Ok().json(issue))
}

/// Voids a handout: it stays readable, stops counting, and its kits go back to the peer. Voiding again changes nothing.
#[utoipa::path(
    post, path = "/api/v1/kit-issues/{id}/void", tag = "kit issues", operation_id = "void_kit_issue",
    params(("id" = Uuid, Path, description = "Kit issue id")),
    request_body = VoidRequest,
    responses(
        (status = 200, description = "The voided handout", body = KitIssue),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        responses::BodyErrors,
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn void_handler(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidJson<VoidRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let reason = body.into_inner().reason;
    let issue = state
        .db
        .write(move |conn| counting(conn, |conn, pending| void(conn, pending, &principal, &id, &reason)))
        .await?;
    Ok(HttpResponse::Ok().json(issue))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored handout's fingerprint was made from this body's serialised
    /// form: renaming or reordering a field of `NewKitIssue` would turn a
    /// phone's harmless resend of it into a 409.
    #[test]
    fn the_fingerprint_of_a_known_body_is_pinned() {
        let body = r#"{"id": "0b8f7c1e-9d2a-4c3b-8e5f-6a7b8c9d0e1f", "issued_at": "2026-11-23T10:15:00.123456Z",
            "area_id": "0194f0a0-0000-7000-8000-0000000000a1", "postcode_district": "ka1", "setting": "outreach",
            "product_id": "0194f0a0-0000-7000-8000-000000000001", "batch_id": "0194f0a0-0000-7000-8000-0000000000b1",
            "quantity": 5, "recipient_type": "family_friend", "consent_recorded": true, "supply": "repeat",
            "repeat_reason": "lost", "brief_training_given": true, "recipient_code": "smi 0412",
            "age_band": "18_to_24", "gender": "non_binary"}"#;
        let new: NewKitIssue = serde_json::from_str(body).unwrap();
        let principal = Principal {
            user_id: "0194f0a0-0000-7000-8000-0000000000f1".into(),
            roles: vec![Role::Peer],
            organisation_id: Some("0194f0a0-0000-7000-8000-0000000000c1".into()),
            area_id: None,
            request_id: None,
        };
        let drafted = draft(&principal, &[7u8; 32], &new).unwrap();
        assert_eq!(drafted.fingerprint, "5fbd8f5fcfe6503f892be30ebdf4842f908ab835bac9a83363169df9203a6966");
        // A tally with nothing about the recipient, as most handouts are.
        let tally: NewKitIssue = serde_json::from_str(
            r#"{"id": "0b8f7c1e-9d2a-4c3b-8e5f-6a7b8c9d0e20", "issued_at": "2026-11-23T10:15:00Z",
                "area_id": "0194f0a0-0000-7000-8000-0000000000a1", "setting": "hub_drop_in",
                "product_id": "0194f0a0-0000-7000-8000-000000000002", "quantity": 1}"#,
        )
        .unwrap();
        assert_eq!(
            draft(&principal, &[7u8; 32], &tally).unwrap().fingerprint,
            "3b3743cdba4c8c896cfc486fadd9ce916127ea1d291fc8491c6786386b0ef218"
        );
    }

    #[test]
    fn recipient_codes_hash_the_same_however_typed_and_differ_by_key() {
        let a = hash_recipient_code(b"k1", "smi 0412").unwrap();
        assert_eq!(a, hash_recipient_code(b"k1", "SMI0412").unwrap());
        assert_ne!(a, hash_recipient_code(b"k2", "SMI0412").unwrap());
        assert!(!a.contains("SMI"));
    }
}
