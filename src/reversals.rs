//! Overdose reversal reports: naloxone given, by whom, and what happened.
//! A report may ask for a replacement kit, recorded with it in the same
//! transaction as a repeat supply "used on an overdose".

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{now, truncate_to_micros, DbConnection};
use crate::error::{responses, ApiError, FieldError};
use crate::extract::ValidJson;
use crate::kit_issues::{hash_recipient_code, AgeBand, Gender, Lookups, NewKitIssue, RepeatReason, Supply};
use crate::pagination::{ListQuery, Page, PageParams, PageRequest};
use crate::patch::double_option;
use crate::records::{self, PeerScope, Submission, VoidRequest};
use crate::schema::{products, reversals};
use crate::server::AppState;
use crate::stats::{counting, Pending};
use actix_web::{web, HttpResponse};

crate::text_enum! {
    pub enum Place {
        Home = "home",
        /// Someone else's home.
        OtherHome = "other_home",
        StreetOrPark = "street_or_park",
        /// Hostel or supported housing.
        Hostel = "hostel",
        PublicToilet = "public_toilet",
        HospitalGrounds = "hospital_grounds",
        PrisonOrCustody = "prison_or_custody",
        Other = "other",
    }
}

crate::text_enum! {
    /// Who gave the naloxone.
    pub enum AdministeredBy {
        ReportingPeer = "reporting_peer",
        /// Someone the peer had given a kit to.
        KitRecipient = "kit_recipient",
        FamilyFriend = "family_friend",
        ServiceWorker = "service_worker",
        Other = "other",
    }
}

crate::text_enum! {
    pub enum YesNoUnknown {
        Yes = "yes",
        No = "no",
        Unknown = "unknown",
    }
}

crate::text_enum! {
    pub enum Outcome {
        Survived = "survived",
        Died = "died",
        Unknown = "unknown",
    }
}

/// A report as stored and shown. No names: only what happened.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = reversals, treat_none_as_null = true)]
pub struct Reversal {
    pub id: String,
    pub reporter_id: String,
    pub organisation_id: String,
    /// When, by the phone's clock.
    #[serde(with = "crate::time::utc")]
    #[schema(value_type = DateTime<Utc>)]
    pub occurred_at: NaiveDateTime,
    pub area_id: String,
    pub postcode_district: Option<String>,
    pub place: Place,
    pub administered_by: AdministeredBy,
    pub product_id: String,
    pub doses: i32,
    pub emergency_services_called: YesNoUnknown,
    pub ambulance_attended: YesNoUnknown,
    pub rescue_breaths_or_cpr: YesNoUnknown,
    pub outcome: Outcome,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
    /// The handout whose kit was used, if known.
    pub kit_issue_id: Option<String>,
    /// The kit handed out to replace the one used.
    pub replacement_kit_issue_id: Option<String>,
    #[serde(skip)]
    pub request_fingerprint: String,
    /// When the server stored it.
    #[serde(rename = "reported_at", with = "crate::time::utc")]
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

/// A report as a phone submits it.
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReversalFilter {
    /// Occurred on or after this date (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Occurred on or before this date (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    pub reporter_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub outcome: Option<Outcome>,
    /// true: only voided; false: only standing; absent: both.
    pub voided: Option<bool>,
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Reversal>, ApiError> {
    Ok(reversals::table.find(id).select(Reversal::as_select()).first(conn).optional()?)
}

fn rule_errors(report: &Reversal) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> =
        records::check_event_time("occurred_at", report.occurred_at).into_iter().collect();
    errors.extend(report.postcode_district.as_deref().and_then(records::check_postcode_district));
    if !(1..=10).contains(&report.doses) {
        errors.push(FieldError::new("doses", "range", "must be 1 to 10 doses"));
    }
    errors
}

/// The area and product exist; a linked handout is one the reporter may see.
fn check_references(conn: &mut DbConnection, principal: &Principal, report: &Reversal) -> Result<(), ApiError> {
    if crate::areas::find(conn, &report.area_id)?.is_none() {
        return Err(ApiError::invalid_field("area_id", "not_found", "no such area"));
    }
    if products::table.find(&report.product_id).select(products::id).first::<String>(conn).optional()?.is_none() {
        return Err(ApiError::invalid_field("product_id", "not_found", "no such product"));
    }
    if let Some(kit) = &report.kit_issue_id {
        let scope = PeerScope::of(principal, "handouts")?;
        let visible =
            crate::kit_issues::find(conn, kit)?.is_some_and(|k| scope.covers(&k.distributor_id, &k.organisation_id));
        if !visible {
            return Err(ApiError::invalid_field("kit_issue_id", "not_found", "no such handout"));
        }
    }
    Ok(())
}

/// The replacement is a repeat supply used on an overdose, whatever else it says.
fn as_replacement(mut kit: NewKitIssue) -> Result<NewKitIssue, ApiError> {
    let wrong = |field: &str| {
        ApiError::invalid_field(field, "not_allowed", "a replacement is a repeat supply used on an overdose")
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
fn fingerprint(submitter_id: &str, key: &[u8], new: &NewReversal) -> Result<String, ApiError> {
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
    pending: &mut Pending,
    principal: &Principal,
    key: &[u8],
    new: NewReversal,
) -> Result<Submission<Reversal>, ApiError> {
    PeerScope::of(principal, "reversal reports")?;
    let id = new.id.to_string();
    let fingerprint = fingerprint(&principal.user_id, key, &new)?;
    if let Some(existing) = find(conn, &id)? {
        if existing.request_fingerprint != fingerprint {
            return Err(records::id_conflict(&format!("/api/v1/reversals/{id}")));
        }
        return Ok(Submission::Duplicate(existing));
    }
    let organisation_id = principal
        .organisation_id
        .clone()
        .ok_or_else(|| ApiError::forbidden("reports belong to an organisation; this account has none"))?;
    let at = now();
    let mut report = Reversal {
        id: id.clone(),
        reporter_id: principal.user_id.clone(),
        organisation_id,
        occurred_at: truncate_to_micros(new.occurred_at.naive_utc()),
        area_id: new.area_id.to_string(),
        postcode_district: new.postcode_district.as_deref().map(records::normalise_district),
        place: new.place,
        administered_by: new.administered_by,
        product_id: new.product_id.to_string(),
        doses: new.doses,
        emergency_services_called: new.emergency_services_called.unwrap_or(YesNoUnknown::Unknown),
        ambulance_attended: new.ambulance_attended.unwrap_or(YesNoUnknown::Unknown),
        rescue_breaths_or_cpr: new.rescue_breaths_or_cpr.unwrap_or(YesNoUnknown::Unknown),
        outcome: new.outcome,
        age_band: new.age_band,
        gender: new.gender,
        kit_issue_id: new.kit_issue_id.map(|k| k.to_string()),
        replacement_kit_issue_id: None,
        request_fingerprint: fingerprint,
        created_at: at,
        updated_at: at,
        voided_at: None,
        void_reason: None,
    };
    let errors = rule_errors(&report);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    check_references(conn, principal, &report)?;
    if let Some(kit) = new.replacement {
        let kit = as_replacement(kit)?;
        let stored = match crate::kit_issues::submit(conn, lookups, pending, principal, key, &kit)
            .map_err(|e| e.within("replacement"))?
        {
            Submission::Created(kit) | Submission::Duplicate(kit) => kit,
        };
        report.replacement_kit_issue_id = Some(stored.id);
    }
    diesel::insert_into(reversals::table).values(&report).execute(conn)?;
    pending.reversal(&report, 1);
    audit::record(conn, &principal.actor(), Action::Create, "reversal", &id, None, &report)?;
    Ok(Submission::Created(report))
}

fn correctable(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<Reversal, ApiError> {
    let scope = PeerScope::of(principal, "reversal reports")?;
    let report = find(conn, id)?
        .filter(|r| scope.covers(&r.reporter_id, &r.organisation_id))
        .ok_or_else(|| ApiError::not_found("reversal report"))?;
    if !records::may_correct(principal, &report.reporter_id, &report.organisation_id, report.created_at) {
        return Err(ApiError::forbidden("the peer may change a report for 7 days; after that, a coordinator"));
    }
    Ok(report)
}

fn correct(
    conn: &mut DbConnection,
    pending: &mut Pending,
    principal: &Principal,
    id: &str,
    patch: ReversalPatch,
) -> Result<Reversal, ApiError> {
    let before = correctable(conn, principal, id)?;
    if before.voided_at.is_some() {
        return Err(records::already_voided());
    }
    let mut after = before.clone();
    if let Some(at) = patch.occurred_at {
        after.occurred_at = truncate_to_micros(at.naive_utc());
    }
    if let Some(area) = patch.area_id {
        after.area_id = area.to_string();
    }
    if let Some(district) = patch.postcode_district {
        after.postcode_district = district.as_deref().map(records::normalise_district);
    }
    if let Some(place) = patch.place {
        after.place = place;
    }
    if let Some(by) = patch.administered_by {
        after.administered_by = by;
    }
    if let Some(product) = patch.product_id {
        after.product_id = product.to_string();
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
        after.kit_issue_id = kit.map(|k| k.to_string());
    }
    let errors = rule_errors(&after);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    check_references(conn, principal, &after)?;
    after.updated_at = now();
    diesel::update(reversals::table.find(id)).set(&after).execute(conn)?;
    pending.reversal(&before, -1);
    pending.reversal(&after, 1);
    audit::record(conn, &principal.actor(), Action::Update, "reversal", id, Some(&before), &after)?;
    Ok(after)
}

/// Voids a report. A replacement kit stays recorded: it was handed out.
fn void(
    conn: &mut DbConnection,
    pending: &mut Pending,
    principal: &Principal,
    id: &str,
    reason: &str,
) -> Result<Reversal, ApiError> {
    let before = correctable(conn, principal, id)?;
    if before.voided_at.is_some() {
        return Ok(before);
    }
    let at = now();
    let after =
        Reversal { voided_at: Some(at), void_reason: Some(reason.trim().to_owned()), updated_at: at, ..before.clone() };
    diesel::update(reversals::table.find(id)).set(&after).execute(conn)?;
    pending.reversal(&before, -1);
    audit::record(conn, &principal.actor(), Action::Void, "reversal", id, Some(&before), &after)?;
    Ok(after)
}

fn list_in_scope(
    conn: &mut DbConnection,
    scope: PeerScope,
    filter: ReversalFilter,
    page: &PageRequest,
) -> Result<Page<Reversal>, ApiError> {
    let mut query =
        reversals::table.select(Reversal::as_select()).order(reversals::id.asc()).limit(page.limit + 1).into_boxed();
    match scope {
        PeerScope::All => {}
        PeerScope::Organisation(organisation) => query = query.filter(reversals::organisation_id.eq(organisation)),
        PeerScope::Own(me) => query = query.filter(reversals::reporter_id.eq(me)),
    }
    let (start, end) = records::day_bounds(filter.from, filter.to);
    if let Some(start) = start {
        query = query.filter(reversals::occurred_at.ge(start));
    }
    if let Some(end) = end {
        query = query.filter(reversals::occurred_at.lt(end));
    }
    if let Some(reporter) = filter.reporter_id {
        query = query.filter(reversals::reporter_id.eq(reporter.to_string()));
    }
    if let Some(organisation) = filter.organisation_id {
        query = query.filter(reversals::organisation_id.eq(organisation.to_string()));
    }
    if let Some(area) = filter.area_id {
        query = query.filter(reversals::area_id.eq(area.to_string()));
    }
    if let Some(outcome) = filter.outcome {
        query = query.filter(reversals::outcome.eq(outcome));
    }
    match filter.voided {
        Some(true) => query = query.filter(reversals::voided_at.is_not_null()),
        Some(false) => query = query.filter(reversals::voided_at.is_null()),
        None => {}
    }
    if let Some(after) = &page.after {
        query = query.filter(reversals::id.gt(after.clone()));
    }
    Ok(Page::from_rows(query.load(conn)?, page, |r: &Reversal| &r.id))
}

/// Records a reversal report, and its replacement kit if asked. The same id
/// with the same body again answers 200 with the stored report; with
/// another body, 409.
#[utoipa::path(
    post, path = "/api/v1/reversals", tag = "reversals", operation_id = "create_reversal",
    request_body = NewReversal,
    responses(
        (status = 201, description = "Recorded", body = Reversal, headers(("Location" = String, description = "The report's URL"))),
        (status = 200, description = "Already recorded: the stored report", body = Reversal),
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
    body: ValidJson<NewReversal>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let key = state.recipient_code_key.clone();
    let outcome = state
        .db
        .write_retrying_race(move |conn| {
            counting(conn, |conn, pending| {
                submit(conn, &mut Lookups::default(), pending, &principal, &key, new.clone())
            })
        })
        .await?;
    Ok(outcome.into_response("/api/v1/reversals", |record| &record.id))
}

/// Lists reports: a peer their own, a coordinator their organisation's, an admin all.
#[utoipa::path(
    get, path = "/api/v1/reversals", tag = "reversals", operation_id = "list_reversals",
    params(ReversalFilter, PageParams),
    responses(
        (status = 200, description = "A page of reports, oldest record first", body = Page<Reversal>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery<ReversalFilter>,
) -> Result<HttpResponse, ApiError> {
    let scope = PeerScope::of(&principal, "reversal reports")?;
    let ListQuery { filter, page } = query;
    let result = state.db.run(move |conn| list_in_scope(conn, scope, filter, &page)).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Reads a report (voided ones too).
#[utoipa::path(
    get, path = "/api/v1/reversals/{id}", tag = "reversals", operation_id = "get_reversal",
    params(("id" = Uuid, Path, description = "Reversal report id")),
    responses(
        (status = 200, description = "The report", body = Reversal),
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
    let scope = PeerScope::of(&principal, "reversal reports")?;
    let id = id.into_inner().to_string();
    let report = state
        .db
        .run(move |conn| {
            find(conn, &id)?
                .filter(|r| scope.covers(&r.reporter_id, &r.organisation_id))
                .ok_or_else(|| ApiError::not_found("reversal report"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Corrects a report: its reporter within 7 days, a coordinator of its organisation or an admin at any time.
#[utoipa::path(
    patch, path = "/api/v1/reversals/{id}", tag = "reversals", operation_id = "update_reversal",
    params(("id" = Uuid, Path, description = "Reversal report id")),
    request_body = ReversalPatch,
    responses(
        (status = 200, description = "The corrected report", body = Reversal),
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
    body: ValidJson<ReversalPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let patch = body.into_inner();
    let report = state
        .db
        .write(move |conn| counting(conn, |conn, pending| correct(conn, pending, &principal, &id, patch)))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Voids a report: it stays readable and stops counting. Voiding again changes nothing.
#[utoipa::path(
    post, path = "/api/v1/reversals/{id}/void", tag = "reversals", operation_id = "void_reversal",
    params(("id" = Uuid, Path, description = "Reversal report id")),
    request_body = VoidRequest,
    responses(
        (status = 200, description = "The voided report", body = Reversal),
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
    let report = state
        .db
        .write(move |conn| counting(conn, |conn, pending| void(conn, pending, &principal, &id, &reason)))
        .await?;
    Ok(HttpResponse::Ok().json(report))
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
