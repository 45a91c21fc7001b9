//! Kit handouts: what a peer records, often offline, at an outreach round,
//! in a hostel or at a prison gate. Only the where, what and how many are
//! required; everything about the recipient is optional. A handout needs a
//! valid certificate at its time and, where the organisation tracks stock,
//! kits of its batch in the peer's hands; without them it is held, never
//! lost (see `records`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::audit::{self, Action};
use super::certificates::Authority;
use super::error::{Code, Error, FieldError, RecordRef};
use super::pagination::{Page, PageRequest};
use super::patch::double_option;
use super::principal::Principal;
use super::records::{self, ahead_of_clock, check_event_time, check_postcode_district, FieldRecord, Stamp, Submission};
use super::stats::counting::{counting, Tally};
use super::stock;
pub use crate::model::handouts::{AgeBand, Gender, KitSetting, RecipientType, RepeatReason, Supply};
use crate::model::ids::{AreaId, BatchId, KitIssueId, OrganisationId, ProductId, UserId};
use crate::model::records::{HeldReason, HeldReasonCode, HeldReasons, RecordState};
use crate::model::roles::Role;
use crate::model::time::{now, truncate_to_micros};
use crate::model::values::PostcodeDistrict;
use crate::storage::kit_issues::{self as stored, KitIssueRow};
pub use crate::storage::kit_issues::{KitIssue, KitIssueFilter};
use crate::storage::organisations::Organisation;
use crate::storage::{areas, locks, organisations, products, Database, DbConnection, Visible};

/// The most kits one record may hold (a tally for a whole outreach round).
const MAX_KITS: i32 = 500;

/// A handout as a phone submits it. Only `id`, `issued_at`, `area_id`,
/// `setting`, `product_id` and `quantity` are required.
// Its serialised form feeds the fingerprint: a field renamed or moved changes it.
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

/// What is wrong with a handout itself, which the phone must put right or
/// drop; a district that could not be read comes in as `district`.
fn record_errors(issue: &KitIssue, district: Option<FieldError>) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = district.into_iter().collect();
    errors.extend(check_event_time("issued_at", issue.issued_at));
    if !(1..=MAX_KITS).contains(&issue.quantity) {
        errors.push(FieldError::new("quantity", "range", "must be 1 to 500 kits"));
    }
    errors
}

/// The rules between a handout's own fields that a peer in the street may
/// not be able to meet after the fact: the handout is held until a
/// coordinator puts it right, never refused.
fn reasons_within(issue: &KitIssue) -> Vec<HeldReason> {
    let mut reasons = Vec::new();
    // With an unknown recipient, no consent or repeat rule applies.
    if issue.recipient_type == RecipientType::FamilyFriend && issue.consent_recorded != Some(true) {
        reasons.push(HeldReason::new(
            HeldReasonCode::ConsentNotRecorded,
            Some("consent_recorded"),
            "record consent for a kit given to a family member or friend",
        ));
    }
    let repeat = issue.supply == Some(Supply::Repeat);
    if repeat && issue.repeat_reason.is_none() && issue.recipient_type != RecipientType::Unknown {
        reasons.push(HeldReason::new(
            HeldReasonCode::RepeatReasonMissing,
            Some("repeat_reason"),
            "give the reason for a repeat supply",
        ));
    }
    if !repeat && issue.repeat_reason.is_some() {
        reasons.push(HeldReason::new(
            HeldReasonCode::RepeatReasonNotAllowed,
            Some("repeat_reason"),
            "a reason is only for a repeat supply",
        ));
    }
    reasons.extend(ahead_of_clock("issued_at", issue.issued_at));
    reasons
}

/// The district as typed, read: the district or the error, apart.
fn read_district(text: Option<&str>) -> (Option<PostcodeDistrict>, Option<FieldError>) {
    match check_postcode_district(text) {
        Ok(district) => (district, None),
        Err(error) => (None, Some(error)),
    }
}

/// The keyed hash a recipient code is stored as: enough to tell one
/// recipient from another, useless without the server's key.
pub fn hash_recipient_code(key: &[u8], code: &str) -> Result<String, Error> {
    let normalised: String = code.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(Error::internal)?;
    mac.update(normalised.as_bytes());
    Ok(mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect())
}

const CERTIFICATE_REQUIRED: &str =
    "handing out kits needs a valid peer_supplier or peer_trainer certificate at the time of the handout";

fn certificate_required() -> Error {
    Error::Forbidden { code: Code::CertificateRequired, detail: CERTIFICATE_REQUIRED.into() }
}

fn too_few_kits() -> HeldReason {
    HeldReason::new(
        HeldReasonCode::InsufficientStock,
        Some("quantity"),
        "the peer does not hold that many kits of the batch",
    )
}

/// What a handout refers to, looked up once per request: a sync batch of
/// a hundred handouts names the same peer, area and product a hundred times.
#[derive(Default)]
pub struct Lookups {
    authorities: HashMap<UserId, Authority>,
    areas: HashSet<AreaId>,
    products: HashSet<ProductId>,
    organisations: HashMap<OrganisationId, Organisation>,
}

impl Lookups {
    fn authority(&mut self, conn: &mut DbConnection, user: &UserId) -> Result<&Authority, Error> {
        if !self.authorities.contains_key(user) {
            let authority = Authority::load(conn, user)?;
            self.authorities.insert(user.clone(), authority);
        }
        Ok(&self.authorities[user])
    }

    fn area_exists(&mut self, conn: &mut DbConnection, id: &AreaId) -> Result<bool, Error> {
        if !self.areas.contains(id) && areas::exists(conn, id)? {
            self.areas.insert(id.clone());
        }
        Ok(self.areas.contains(id))
    }

    fn product_exists(&mut self, conn: &mut DbConnection, id: &ProductId) -> Result<bool, Error> {
        if !self.products.contains(id) && products::exists(conn, id)? {
            self.products.insert(id.clone());
        }
        Ok(self.products.contains(id))
    }

    fn organisation(&mut self, conn: &mut DbConnection, id: &OrganisationId) -> Result<Option<Organisation>, Error> {
        if !self.organisations.contains_key(id) {
            if let Some(organisation) = organisations::find(conn, id)? {
                self.organisations.insert(id.clone(), organisation);
            }
        }
        Ok(self.organisations.get(id).cloned())
    }
}

/// What stands in a handout's way, and whether it takes kits from stock.
struct Judgement {
    reasons: Vec<HeldReason>,
    /// Its organisation tracks stock and it names a batch.
    draws_on_stock: bool,
}

/// Judges a handout as it would be stored. That a reference does not
/// exist or does not fit is an error: the record names nothing real. What
/// the world says of it (the peer's certificate at the time, the batch,
/// the rules within it) are reasons to hold it.
fn judge(conn: &mut DbConnection, lookups: &mut Lookups, issue: &KitIssue) -> Result<Judgement, Error> {
    let mut reasons = reasons_within(issue);
    if !lookups.authority(conn, &issue.distributor_id)?.may_supply(issue.issued_at) {
        reasons.push(HeldReason::new(HeldReasonCode::CertificateRequired, None, CERTIFICATE_REQUIRED));
    }
    if !lookups.area_exists(conn, &issue.area_id)? {
        return Err(Error::invalid_field("area_id", "not_found", "no such area"));
    }
    if !lookups.product_exists(conn, &issue.product_id)? {
        return Err(Error::invalid_field("product_id", "not_found", "no such product"));
    }
    let organisation = lookups
        .organisation(conn, &issue.organisation_id)?
        .ok_or_else(|| Error::invalid_field("organisation_id", "not_found", "no such organisation"))?;
    let Some(batch_id) = &issue.batch_id else {
        if organisation.tracks_stock {
            reasons.push(HeldReason::new(
                HeldReasonCode::BatchRequired,
                Some("batch_id"),
                "this organisation tracks stock: say which batch",
            ));
        }
        return Ok(Judgement { reasons, draws_on_stock: false });
    };
    let batch = crate::storage::stock::find_batch(conn, batch_id)?
        .filter(|b| b.organisation_id == issue.organisation_id)
        .ok_or_else(|| Error::invalid_field("batch_id", "not_found", "no such batch in this organisation"))?;
    if batch.product_id != issue.product_id {
        return Err(Error::invalid_field("batch_id", "product_mismatch", "the batch is of another product"));
    }
    if batch.expires_on < issue.issued_at.date() {
        reasons.push(HeldReason::new(
            HeldReasonCode::BatchExpired,
            Some("batch_id"),
            "the batch had expired when the kits were handed out",
        ));
    }
    if batch.recalled_at.is_some_and(|recalled| recalled <= issue.issued_at) {
        reasons.push(HeldReason::new(HeldReasonCode::BatchRecalled, Some("batch_id"), "the batch had been recalled"));
    }
    Ok(Judgement { reasons, draws_on_stock: organisation.tracks_stock })
}

/// Takes a stored handout's kits from its distributor's allocation.
fn take_stock(conn: &mut DbConnection, issue: &KitIssue) -> Result<(), Error> {
    match &issue.batch_id {
        Some(batch) => stock::issue_from_allocation(conn, batch, &issue.distributor_id, issue.quantity, &issue.id),
        None => Ok(()),
    }
}

/// A handout as it would be stored, worked out before the database is
/// asked: a sync call drafts its whole queue before it takes the writer.
#[derive(Clone)]
pub struct Draft {
    id: KitIssueId,
    /// Tells a retry (same body) from another record reusing the id.
    fingerprint: String,
    /// The row and its audit entry as a recorded handout, or what is wrong
    /// with it (said only if the id is new).
    issue: Result<(KitIssueRow, crate::storage::audit::AuditRow), Error>,
    /// Who sends it, for the audit entry of a handout that is held.
    actor: audit::Actor,
}

/// Drafts one handout: who sends it, its fingerprint, its row and its rules.
pub fn draft(principal: &Principal, key: &[u8], new: &NewKitIssue) -> Result<Draft, Error> {
    // Only peers hand out kits (DESIGN): a trainer or coordinator who does
    // holds the peer role as well.
    principal.require_any(&[Role::Peer])?;
    let id = KitIssueId::from(new.id);
    let code_hash = new.recipient_code.as_deref().map(|code| hash_recipient_code(key, code)).transpose()?;
    // The fingerprint never sees the code as typed: only its keyed hash.
    let fingerprint = records::fingerprint(
        principal.user_id.as_str(),
        &NewKitIssue { recipient_code: code_hash.clone(), ..new.clone() },
    )?;
    let issue = principal.organisation_id.clone().ok_or_else(certificate_required).and_then(|organisation_id| {
        let at = now();
        let (postcode_district, district_error) = read_district(new.postcode_district.as_deref());
        let shown = KitIssue {
            id: id.clone(),
            distributor_id: principal.user_id.clone(),
            organisation_id,
            issued_at: truncate_to_micros(new.issued_at.naive_utc()),
            area_id: AreaId::from(new.area_id),
            postcode_district,
            setting: new.setting,
            product_id: ProductId::from(new.product_id),
            batch_id: new.batch_id.map(BatchId::from),
            quantity: new.quantity,
            recipient_type: new.recipient_type.unwrap_or(RecipientType::Unknown),
            consent_recorded: new.consent_recorded,
            supply: new.supply,
            repeat_reason: new.repeat_reason,
            brief_training_given: new.brief_training_given,
            age_band: new.age_band,
            gender: new.gender,
            created_at: at,
            updated_at: at,
            voided_at: None,
            void_reason: None,
            state: RecordState::Recorded,
            held_reasons: HeldReasons::default(),
            released_at: None,
            release_reason: None,
        };
        let errors = record_errors(&shown, district_error);
        if !errors.is_empty() {
            return Err(Error::invalid(errors));
        }
        let entry = audit::entry(&principal.actor(), Action::Create, KitIssue::ENTITY, id.as_str(), None, &shown)?;
        let row = KitIssueRow { shown, recipient_code_hash: code_hash, request_fingerprint: fingerprint.clone() };
        Ok((row, entry))
    });
    Ok(Draft { id, fingerprint, issue, actor: principal.actor() })
}

/// Records a handout, or recognises a resubmission of one.
pub fn submit(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    tally: &mut Tally,
    principal: &Principal,
    key: &[u8],
    new: &NewKitIssue,
) -> Result<Submission<KitIssue>, Error> {
    submit_drafted(conn, lookups, tally, &draft(principal, key, new)?)
}

/// Records one drafted handout, or recognises a resubmission of it.
fn submit_drafted(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    tally: &mut Tally,
    drafted: &Draft,
) -> Result<Submission<KitIssue>, Error> {
    let mut outcomes = submit_all(conn, lookups, tally, &[drafted])?;
    outcomes.pop().unwrap_or_else(|| Err(Error::internal("a handout went unanswered")))
}

/// Records drafted handouts, or recognises resubmissions of them: one
/// outcome per handout, in order, each judged on its own. A phone's whole
/// queue comes here at once, so the database is asked once for the ids it
/// holds, and the new handouts go in together with their audit entries. A
/// handout that draws on stock is written on its own, in a savepoint: with
/// too few kits nothing of that is left, and it is stored held. Whatever
/// stands in a handout's way holds it (it counts once released). The outer error is
/// the database failing, or a race for an id lost: nothing of the call may
/// stand.
pub fn submit_all(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    tally: &mut Tally,
    drafts: &[&Draft],
) -> Result<Vec<Result<Submission<KitIssue>, Error>>, Error> {
    // The stored handouts, and those this call stores.
    let ids: Vec<&KitIssueId> = drafts.iter().map(|d| &d.id).collect();
    let mut known: HashMap<KitIssueId, KitIssueRow> =
        stored::rows_among(conn, &ids)?.into_iter().map(|row| (row.shown.id.clone(), row)).collect();
    let mut outcomes = Vec::with_capacity(drafts.len());
    let mut together = Vec::new();
    let mut entries = Vec::new();
    for &drafted in drafts {
        let outcome = match known.get(&drafted.id) {
            Some(existing) => records::resubmission(
                existing.shown.clone(),
                &existing.request_fingerprint,
                &drafted.fingerprint,
                RecordRef::KitIssue(drafted.id.clone()),
            ),
            None => drafted.issue.clone().and_then(|(mut row, mut entry)| {
                let Judgement { mut reasons, draws_on_stock } = judge(conn, lookups, &row.shown)?;
                let mut inserted = false;
                if reasons.is_empty() && draws_on_stock {
                    let drawn = crate::storage::savepoint(conn, |c| {
                        stored::insert_all(c, std::slice::from_ref(&row))?;
                        take_stock(c, &row.shown)
                    });
                    match drawn {
                        Ok(()) => inserted = true,
                        Err(error) if error.code() == Code::InsufficientStock => reasons.push(too_few_kits()),
                        Err(error) => return Err(error),
                    }
                }
                let held = !reasons.is_empty();
                if held {
                    row.shown.state = RecordState::Held;
                    row.shown.held_reasons = HeldReasons::new(reasons);
                    let id = drafted.id.as_str();
                    entry = audit::entry(&drafted.actor, Action::Create, KitIssue::ENTITY, id, None, &row.shown)?;
                }
                if !inserted {
                    together.push(row.clone());
                }
                tally.kit_issue(conn, &row.shown, 1)?;
                entries.push(entry);
                let shown = row.shown.clone();
                known.insert(shown.id.clone(), row);
                Ok(if held { Submission::Held(shown) } else { Submission::Created(shown) })
            }),
        };
        match outcome {
            Err(error) if error.ends_the_call() => return Err(error),
            outcome => outcomes.push(outcome),
        }
    }
    stored::insert_all(conn, &together)?;
    audit::record_all(conn, &entries)?;
    Ok(outcomes)
}

/// Records a handout. The same id with the same body again is the stored
/// record; with another body, an id conflict.
pub async fn create(
    db: &Database,
    principal: Principal,
    key: &[u8],
    new: NewKitIssue,
) -> Result<Submission<KitIssue>, Error> {
    let drafted = std::sync::Arc::new(draft(&principal, key, &new)?);
    super::transaction::write(db, move |conn| {
        counting(conn, |conn, tally| submit_drafted(conn, &mut Lookups::default(), tally, &drafted))
    })
    .await
}

impl FieldRecord for KitIssue {
    type View = KitIssue;
    type Id = KitIssueId;
    type Patch = KitIssuePatch;
    type Filter = KitIssueFilter;
    const NAME: &'static str = "kit issue";
    const ENTITY: &'static str = "kit_issue";
    const PLURAL: &'static str = "handouts";
    const CALLED: &'static str = "handout";
    const TABLE: locks::Table = locks::Table::KitIssues;
    const AUTHORS: Role = Role::Peer;

    fn load(conn: &mut DbConnection, id: &KitIssueId) -> Result<Option<Self>, Error> {
        Ok(stored::find(conn, id)?)
    }

    fn list(
        conn: &mut DbConnection,
        visible: &Visible,
        filter: &KitIssueFilter,
        page: &PageRequest,
    ) -> Result<Page<KitIssue>, Error> {
        let issued = records::day_bounds(filter.from, filter.to);
        let rows = stored::list(conn, visible, filter, issued, page.paging())?;
        Ok(Page::from_rows(rows, page, |i| i.id.as_str()))
    }

    fn view(&self) -> KitIssue {
        self.clone()
    }

    fn stamp(&self) -> Stamp<'_> {
        Stamp {
            organisation: &self.organisation_id,
            authors: [&self.distributor_id, &self.distributor_id],
            created_at: self.created_at,
            state: self.state,
        }
    }

    /// Its stock moves with it: the kits it took go back, and the corrected
    /// handout takes its own. A held handout stays held, takes no stock and
    /// is judged again when it is released; a recorded one may not be
    /// corrected into one that would be held.
    fn correct(
        conn: &mut DbConnection,
        principal: &Principal,
        before: &Self,
        patch: KitIssuePatch,
    ) -> Result<Self, Error> {
        let mut after = before.clone();
        let mut district_error = None;
        if let Some(at) = patch.issued_at {
            after.issued_at = truncate_to_micros(at.naive_utc());
        }
        if let Some(area) = patch.area_id {
            after.area_id = AreaId::from(area);
        }
        if let Some(district) = patch.postcode_district {
            (after.postcode_district, district_error) = read_district(district.as_deref());
        }
        if let Some(setting) = patch.setting {
            after.setting = setting;
        }
        if let Some(product) = patch.product_id {
            after.product_id = ProductId::from(product);
        }
        if let Some(batch) = patch.batch_id {
            after.batch_id = batch.map(BatchId::from);
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
        let errors = record_errors(&after, district_error);
        if !errors.is_empty() {
            return Err(Error::invalid(errors));
        }
        after.updated_at = now();
        let Judgement { reasons, draws_on_stock } = judge(conn, &mut Lookups::default(), &after)?;
        if before.state == RecordState::Held {
            // It shows what still stands in its way; its stock is judged on release.
            after.held_reasons = HeldReasons::new(reasons);
            stored::update(conn, &after)?;
            return Ok(after);
        }
        if !reasons.is_empty() {
            return Err(records::refusal(HeldReasons::new(reasons)));
        }
        stock::reverse_issue(conn, &before.id, &principal.user_id)?;
        stored::update(conn, &after)?;
        if draws_on_stock {
            take_stock(conn, &after)?;
        }
        Ok(after)
    }

    /// Releasing vouches for the peer's certificate at the time; the rest
    /// must hold now, and its kits are taken then.
    fn release(
        conn: &mut DbConnection,
        _: &Principal,
        before: &Self,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<Self, Error> {
        let Judgement { mut reasons, draws_on_stock } = judge(conn, &mut Lookups::default(), before)?;
        reasons.retain(|reason| reason.code != HeldReasonCode::CertificateRequired);
        if !reasons.is_empty() {
            return Err(Error::StillHeld(HeldReasons::new(reasons)));
        }
        let after = KitIssue {
            state: RecordState::Recorded,
            released_at: Some(at),
            release_reason: Some(reason.to_owned()),
            updated_at: at,
            ..before.clone()
        };
        stored::update(conn, &after)?;
        if draws_on_stock {
            take_stock(conn, &after).map_err(|error| match error.code() {
                Code::InsufficientStock => Error::StillHeld(HeldReasons::new(vec![too_few_kits()])),
                _ => error,
            })?;
        }
        Ok(after)
    }

    /// Its kits go back to the peer.
    fn void(
        conn: &mut DbConnection,
        principal: &Principal,
        before: &Self,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<Self, Error> {
        let after = KitIssue {
            voided_at: Some(at),
            void_reason: Some(reason.to_owned()),
            updated_at: at,
            state: RecordState::Voided,
            ..before.clone()
        };
        stock::reverse_issue(conn, &before.id, &principal.user_id)?;
        stored::update(conn, &after)?;
        Ok(after)
    }

    fn count(&self, conn: &mut DbConnection, tally: &mut Tally, sign: i64) -> Result<(), Error> {
        tally.kit_issue(conn, self, sign)
    }
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
            user_id: UserId::parse("0194f0a0-0000-7000-8000-0000000000f1").unwrap(),
            roles: vec![Role::Peer],
            organisation_id: OrganisationId::parse("0194f0a0-0000-7000-8000-0000000000c1"),
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
