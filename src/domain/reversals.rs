//! Overdose reversal reports: naloxone given, by whom, and what happened.
//! A report may ask for a replacement kit, recorded with it in the same
//! transaction as a repeat supply "used on an overdose".

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::audit::{self, Action};
use super::error::{Error, FieldError, RecordRef};
use super::kit_issues::{self, hash_recipient_code, KitIssue, Lookups, NewKitIssue};
use super::pagination::{Page, PageRequest};
use super::patch::double_option;
use super::principal::Principal;
use super::records::{self, ahead_of_clock, check_event_time, check_postcode_district, FieldRecord, Stamp, Submission};
use super::stats::counting::{counting, Tally};
use crate::model::handouts::{AgeBand, Gender, RepeatReason, Supply};
use crate::model::ids::{AreaId, KitIssueId, ProductId, ReversalId};
use crate::model::records::{HeldReason, HeldReasons, RecordState};
pub use crate::model::reversals::{AdministeredBy, Outcome, Place, YesNoUnknown};
use crate::model::roles::Role;
use crate::model::time::{now, truncate_to_micros};
use crate::storage::reversals::{self as stored, ReversalRow};
pub use crate::storage::reversals::{Reversal, ReversalFilter};
use crate::storage::{areas, locks, products, Database, DbConnection, Visible};

/// A report as a phone submits it.
// Its serialised form feeds the fingerprint: a field renamed or moved changes it.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReversal {
    /// Made by the phone, so that sending the report again is harmless.
    pub id: Uuid,
    /// RFC 3339; not in the future (5 minutes' grace for the phone's clock).
    pub occurred_at: DateTime<Utc>,
    pub area_id: Uuid,
    #[schema(example = "KA1")]
    pub postcode_district: Option<String>,
    pub place: Place,
    pub administered_by: AdministeredBy,
    pub product_id: Uuid,
    #[validate(range(min = 1, max = 10))]
    #[schema(minimum = 1, maximum = 10)]
    pub doses: i32,
    /// Defaults to unknown.
    pub emergency_services_called: Option<YesNoUnknown>,
    /// Defaults to unknown.
    pub ambulance_attended: Option<YesNoUnknown>,
    /// Defaults to unknown.
    pub rescue_breaths_or_cpr: Option<YesNoUnknown>,
    pub outcome: Outcome,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
    pub kit_issue_id: Option<Uuid>,
    /// A kit handed out to replace the one used: recorded with the report
    /// as a repeat supply used on an overdose, with the same checks as any
    /// handout. Either both are stored or neither.
    #[validate(nested)]
    pub replacement: Option<NewKitIssue>,
}

/// Corrections; absent fields stay as they are, `null` clears.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalPatch {
    pub occurred_at: Option<DateTime<Utc>>,
    pub area_id: Option<Uuid>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub postcode_district: Option<Option<String>>,
    pub place: Option<Place>,
    pub administered_by: Option<AdministeredBy>,
    pub product_id: Option<Uuid>,
    #[validate(range(min = 1, max = 10))]
    #[schema(minimum = 1, maximum = 10)]
    pub doses: Option<i32>,
    pub emergency_services_called: Option<YesNoUnknown>,
    pub ambulance_attended: Option<YesNoUnknown>,
    pub rescue_breaths_or_cpr: Option<YesNoUnknown>,
    pub outcome: Option<Outcome>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<AgeBand>)]
    pub age_band: Option<Option<AgeBand>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<Option<Gender>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub kit_issue_id: Option<Option<Uuid>>,
}

/// What is wrong with a report itself, which the phone must put right or
/// drop; a district that could not be read comes in as `district`.
fn record_errors(report: &Reversal, district: Option<FieldError>) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = check_event_time("occurred_at", report.occurred_at).into_iter().collect();
    errors.extend(district);
    if !(1..=10).contains(&report.doses) {
        errors.push(FieldError::new("doses", "range", "must be 1 to 10 doses"));
    }
    errors
}

/// What holds a report: its time, by a phone's clock that runs ahead.
fn reasons_within(report: &Reversal) -> Vec<HeldReason> {
    ahead_of_clock("occurred_at", report.occurred_at).into_iter().collect()
}

/// The area and product exist; a linked handout is one the reporter may see.
fn check_references(conn: &mut DbConnection, principal: &Principal, report: &Reversal) -> Result<(), Error> {
    if !areas::exists(conn, &report.area_id)? {
        return Err(Error::invalid_field("area_id", "not_found", "no such area"));
    }
    if !products::exists(conn, &report.product_id)? {
        return Err(Error::invalid_field("product_id", "not_found", "no such product"));
    }
    if let Some(kit) = &report.kit_issue_id {
        let visible = match records::load_visible::<KitIssue>(conn, principal, kit) {
            Ok(_) => true,
            Err(Error::NotFound(_)) => false,
            Err(error) => return Err(error),
        };
        if !visible {
            return Err(Error::invalid_field("kit_issue_id", "not_found", "no such handout"));
        }
    }
    Ok(())
}

/// The replacement is a repeat supply used on an overdose, whatever else it says.
fn as_replacement(mut kit: NewKitIssue) -> Result<NewKitIssue, Error> {
    let wrong = |field: &str| {
        Error::invalid_field(field, "not_allowed", "a replacement is a repeat supply used on an overdose")
    };
    match kit.supply {
        None | Some(Supply::Repeat) => kit.supply = Some(Supply::Repeat),
        Some(_) => return Err(wrong("replacement.supply")),
    }
    match kit.repeat_reason {
        None | Some(RepeatReason::UsedOnOverdose) => kit.repeat_reason = Some(RepeatReason::UsedOnOverdose),
        Some(_) => return Err(wrong("replacement.repeat_reason")),
    }
    Ok(kit)
}

/// What tells a resubmission of a report from another report reusing its
/// id. It never sees a recipient code as typed, only its keyed hash.
fn fingerprint(submitter_id: &str, key: &[u8], new: &NewReversal) -> Result<String, Error> {
    let mut fingerprinted = new.clone();
    if let Some(kit) = &mut fingerprinted.replacement {
        kit.recipient_code = kit.recipient_code.as_deref().map(|code| hash_recipient_code(key, code)).transpose()?;
    }
    records::fingerprint(submitter_id, &fingerprinted)
}

/// Records a report (and its replacement kit), or recognises a resubmission.
pub fn submit(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    tally: &mut Tally,
    principal: &Principal,
    key: &[u8],
    new: NewReversal,
) -> Result<Submission<Reversal>, Error> {
    records::visible_to::<Reversal>(principal)?;
    let id = ReversalId::from(new.id);
    let fingerprint = fingerprint(principal.user_id.as_str(), key, &new)?;
    if let Some(existing) = stored::find_row(conn, &id)? {
        return records::resubmission(
            existing.shown,
            &existing.request_fingerprint,
            &fingerprint,
            RecordRef::Reversal(id),
        );
    }
    let organisation_id = principal
        .organisation_id
        .clone()
        .ok_or_else(|| Error::forbidden("reports belong to an organisation; this account has none"))?;
    let at = now();
    let district = check_postcode_district(new.postcode_district.as_deref());
    let mut report = Reversal {
        id: id.clone(),
        reporter_id: principal.user_id.clone(),
        organisation_id,
        occurred_at: truncate_to_micros(new.occurred_at.naive_utc()),
        area_id: AreaId::from(new.area_id),
        postcode_district: district.clone().unwrap_or_default(),
        place: new.place,
        administered_by: new.administered_by,
        product_id: ProductId::from(new.product_id),
        doses: new.doses,
        emergency_services_called: new.emergency_services_called.unwrap_or(YesNoUnknown::Unknown),
        ambulance_attended: new.ambulance_attended.unwrap_or(YesNoUnknown::Unknown),
        rescue_breaths_or_cpr: new.rescue_breaths_or_cpr.unwrap_or(YesNoUnknown::Unknown),
        outcome: new.outcome,
        age_band: new.age_band,
        gender: new.gender,
        kit_issue_id: new.kit_issue_id.map(KitIssueId::from),
        replacement_kit_issue_id: None,
        created_at: at,
        updated_at: at,
        voided_at: None,
        void_reason: None,
        state: RecordState::Recorded,
        held_reasons: HeldReasons::default(),
        released_at: None,
        release_reason: None,
    };
    let errors = record_errors(&report, district.err());
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    check_references(conn, principal, &report)?;
    if let Some(kit) = new.replacement {
        let kit = as_replacement(kit)?;
        let stored =
            kit_issues::submit(conn, lookups, tally, principal, key, &kit).map_err(|e| e.within("replacement"))?;
        report.replacement_kit_issue_id = Some(stored.into_inner().id);
    }
    let reasons = reasons_within(&report);
    let held = !reasons.is_empty();
    if held {
        report.state = RecordState::Held;
        report.held_reasons = HeldReasons::new(reasons);
    }
    stored::insert(conn, &ReversalRow { shown: report.clone(), request_fingerprint: fingerprint })?;
    tally.reversal(&report, 1);
    audit::record(conn, &principal.actor(), Action::Create, Reversal::ENTITY, id.as_str(), None, &report)?;
    Ok(if held { Submission::Held(report) } else { Submission::Created(report) })
}

/// Records a reversal report, and its replacement kit if asked.
pub async fn create(
    db: &Database,
    principal: Principal,
    key: Vec<u8>,
    new: NewReversal,
) -> Result<Submission<Reversal>, Error> {
    super::transaction::write(db, move |conn| {
        counting(conn, |conn, tally| submit(conn, &mut Lookups::default(), tally, &principal, &key, new.clone()))
    })
    .await
}

impl FieldRecord for Reversal {
    type View = Reversal;
    type Id = ReversalId;
    type Patch = ReversalPatch;
    type Filter = ReversalFilter;
    const NAME: &'static str = "reversal report";
    const ENTITY: &'static str = "reversal";
    const PLURAL: &'static str = "reversal reports";
    const CALLED: &'static str = "report";
    const TABLE: locks::Table = locks::Table::Reversals;
    const AUTHORS: Role = Role::Peer;

    fn load(conn: &mut DbConnection, id: &ReversalId) -> Result<Option<Self>, Error> {
        Ok(stored::find(conn, id)?)
    }

    fn list(
        conn: &mut DbConnection,
        visible: &Visible,
        filter: &ReversalFilter,
        page: &PageRequest,
    ) -> Result<Page<Reversal>, Error> {
        let occurred = records::day_bounds(filter.from, filter.to);
        let rows = stored::list(conn, visible, filter, occurred, page.paging())?;
        Ok(Page::from_rows(rows, page, |r| r.id.as_str()))
    }

    fn view(&self) -> Reversal {
        self.clone()
    }

    fn stamp(&self) -> Stamp<'_> {
        Stamp {
            organisation: &self.organisation_id,
            authors: [&self.reporter_id, &self.reporter_id],
            created_at: self.created_at,
            state: self.state,
        }
    }

    fn correct(
        conn: &mut DbConnection,
        principal: &Principal,
        before: &Self,
        patch: ReversalPatch,
    ) -> Result<Self, Error> {
        let mut after = before.clone();
        let mut district_error = None;
        if let Some(at) = patch.occurred_at {
            after.occurred_at = truncate_to_micros(at.naive_utc());
        }
        if let Some(area) = patch.area_id {
            after.area_id = AreaId::from(area);
        }
        if let Some(district) = patch.postcode_district {
            match check_postcode_district(district.as_deref()) {
                Ok(district) => after.postcode_district = district,
                Err(error) => district_error = Some(error),
            }
        }
        if let Some(place) = patch.place {
            after.place = place;
        }
        if let Some(by) = patch.administered_by {
            after.administered_by = by;
        }
        if let Some(product) = patch.product_id {
            after.product_id = ProductId::from(product);
        }
        if let Some(doses) = patch.doses {
            after.doses = doses;
        }
        if let Some(called) = patch.emergency_services_called {
            after.emergency_services_called = called;
        }
        if let Some(attended) = patch.ambulance_attended {
            after.ambulance_attended = attended;
        }
        if let Some(cpr) = patch.rescue_breaths_or_cpr {
            after.rescue_breaths_or_cpr = cpr;
        }
        if let Some(outcome) = patch.outcome {
            after.outcome = outcome;
        }
        if let Some(band) = patch.age_band {
            after.age_band = band;
        }
        if let Some(gender) = patch.gender {
            after.gender = gender;
        }
        if let Some(kit) = patch.kit_issue_id {
            after.kit_issue_id = kit.map(KitIssueId::from);
        }
        let errors = record_errors(&after, district_error);
        if !errors.is_empty() {
            return Err(Error::invalid(errors));
        }
        check_references(conn, principal, &after)?;
        let reasons = reasons_within(&after);
        match before.state {
            RecordState::Held => after.held_reasons = HeldReasons::new(reasons),
            _ if !reasons.is_empty() => return Err(records::refusal(HeldReasons::new(reasons))),
            _ => {}
        }
        after.updated_at = now();
        stored::update(conn, &after)?;
        Ok(after)
    }

    fn release(
        conn: &mut DbConnection,
        _: &Principal,
        before: &Self,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<Self, Error> {
        let reasons = reasons_within(before);
        if !reasons.is_empty() {
            return Err(Error::StillHeld(HeldReasons::new(reasons)));
        }
        let after = Reversal {
            state: RecordState::Recorded,
            released_at: Some(at),
            release_reason: Some(reason.to_owned()),
            updated_at: at,
            ..before.clone()
        };
        stored::update(conn, &after)?;
        Ok(after)
    }

    /// A replacement kit stays recorded: it was handed out.
    fn void(
        conn: &mut DbConnection,
        _: &Principal,
        before: &Self,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<Self, Error> {
        let after = Reversal {
            voided_at: Some(at),
            void_reason: Some(reason.to_owned()),
            updated_at: at,
            state: RecordState::Voided,
            ..before.clone()
        };
        stored::update(conn, &after)?;
        Ok(after)
    }

    fn count(&self, _: &mut DbConnection, tally: &mut Tally, sign: i64) -> Result<(), Error> {
        tally.reversal(self, sign);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored report's fingerprint was made from this body's serialised
    /// form: renaming or reordering a field of `NewReversal` (or of the
    /// replacement's `NewKitIssue`) would turn a phone's harmless resend of
    /// it into a 409.
    #[test]
    fn the_fingerprint_of_a_known_body_is_pinned() {
        let body = r#"{"id": "5d0c1b2a-3e4f-4a5b-9c6d-7e8f9a0b1c2d", "occurred_at": "2026-11-23T01:40:00Z",
            "area_id": "0194f0a0-0000-7000-8000-0000000000a1", "postcode_district": "ka1", "place": "street_or_park",
            "administered_by": "kit_recipient", "product_id": "0194f0a0-0000-7000-8000-000000000001", "doses": 2,
            "emergency_services_called": "yes", "ambulance_attended": "no", "rescue_breaths_or_cpr": "unknown",
            "outcome": "survived", "age_band": "25_to_34", "gender": "female",
            "kit_issue_id": "0b8f7c1e-9d2a-4c3b-8e5f-6a7b8c9d0e1f",
            "replacement": {"id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "issued_at": "2026-11-23T09:00:00Z",
                "area_id": "0194f0a0-0000-7000-8000-0000000000a1", "setting": "outreach",
                "product_id": "0194f0a0-0000-7000-8000-000000000001", "quantity": 1, "recipient_code": "smi 0412"}}"#;
        let new: NewReversal = serde_json::from_str(body).unwrap();
        let key = [7u8; 32];
        assert_eq!(
            fingerprint("0194f0a0-0000-7000-8000-0000000000f1", &key, &new).unwrap(),
            "832d910155a4088d1a908394ee39374712091e13eab7f331b80ded5f804fb346"
        );
    }
}
