//! `/api/v1/stats/*` and `/api/v1/alerts/spikes`: statistics for
//! commissioners, coordinators and admins, as JSON or CSV.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::domain::principal::Principal;
use crate::domain::stats::spikes::{SpikeFilter, SpikeReport};
use crate::domain::stats::summary::{Summary, SummaryFilter};
use crate::domain::stats::{self, Subject};
use crate::http::problem::{responses, ApiError};
use crate::http::state::AppState;
use crate::http::stats_docs::{
    KitStatsParams, KitStatsTable, ReversalStatsParams, ReversalStatsTable, TrainingStatsParams, TrainingStatsTable,
};

/// Whether the caller asked for CSV: `format=csv`, or an Accept header
/// naming text/csv when no format was given.
fn wants_csv(request: &HttpRequest, format_csv: bool) -> bool {
    let format_given = request.query_string().split('&').any(|p| p.starts_with("format="));
    format_csv
        || (!format_given
            && request
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.split(',').any(|m| m.trim().starts_with("text/csv"))))
}

/// Answers `/stats/{subject}` as JSON or CSV.
async fn answer(
    state: web::Data<AppState>,
    principal: Principal,
    http: HttpRequest,
    subject: Subject,
) -> Result<HttpResponse, ApiError> {
    let table = stats::answer(&state.db, principal, state.disclosure_threshold, subject, http.query_string()).await?;
    if wants_csv(&http, table.request.csv) {
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.csv\"", subject.table_name().replace('_', "-")),
            ))
            .body(table.to_csv()))
    } else {
        Ok(HttpResponse::Ok().json(table.to_json()))
    }
}

/// Handouts: kits, doses and first supplies, by any of period, area,
/// organisation, setting, recipient type, supply, repeat reason and product.
///
/// Voided handouts never count; corrected ones count as corrected. A
/// commissioner sees their area and the areas beneath it, a coordinator
/// their organisation, an admin everything. For commissioners, counts
/// from 1 to the disclosure threshold − 1 (5 by default) are `null` and
/// named in the row's `suppressed`; wherever a total would let a single
/// hidden count be worked out, the next smallest count in that column (or
/// the total) is hidden too, and doses are hidden with their kits. Zeros
/// stay visible. Ask for CSV with `format=csv` or `Accept: text/csv`;
/// there a suppressed count is `c`.
#[utoipa::path(
    tag = "statistics",
    params(KitStatsParams),
    responses(
        (status = 200, description = "One row per group, and the totals", content(
            (KitStatsTable = "application/json"),
            (String = "text/csv", example = json!("period,area_id,kits,doses,first_supplies\r\n2026-01,0194…,12,42,c\r\n")),
        )),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/stats/kits")]
pub async fn kits(
    state: web::Data<AppState>,
    principal: Principal,
    http: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    answer(state, principal, http, Subject::KitIssues).await
}

/// Reversal reports: reports, outcomes (survived, died, unknown) and doses
/// given, by any of period, area, organisation, outcome, administered by,
/// place and product. Scope, disclosure control and CSV as for
/// `/stats/kits`; a single hidden outcome is never left derivable from
/// the row's reports.
#[utoipa::path(
    tag = "statistics",
    params(ReversalStatsParams),
    responses(
        (status = 200, description = "One row per group, and the totals", content(
            (ReversalStatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/stats/reversals")]
pub async fn reversals(
    state: web::Data<AppState>,
    principal: Principal,
    http: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    answer(state, principal, http, Subject::Reversals).await
}

/// Trainings: sessions, people trained and certificates issued, by any of
/// period, area (the organisation's), organisation and kind. A
/// certificate counts with the session it was issued on (or on the day it
/// was issued, when it names none). Scope, disclosure control and CSV as
/// for `/stats/kits`.
#[utoipa::path(
    tag = "statistics",
    params(TrainingStatsParams),
    responses(
        (status = 200, description = "One row per group, and the totals", content(
            (TrainingStatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/stats/trainings")]
pub async fn trainings(
    state: web::Data<AppState>,
    principal: Principal,
    http: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    answer(state, principal, http, Subject::Trainings).await
}

/// Headline figures for a period and an area: kits, reversals, trainings,
/// active certified peers, certificates expiring within 90 days, and reach
/// (first supplies to people at risk per 1,000 of the area's population at
/// risk). Scope and disclosure control as for `/stats/kits`.
#[utoipa::path(
    tag = "statistics",
    params(SummaryFilter),
    responses(
        (status = 200, description = "The headline figures", body = Summary),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/stats/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<SummaryFilter>,
) -> Result<HttpResponse, ApiError> {
    let summary = stats::summary::summary(&state.db, principal, state.disclosure_threshold, query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// Areas within the caller's scope whose reversal reports in the 7 days
/// ending `as_of` are at least 3 and at least twice the weekly mean of the
/// 8 weeks before (days in UTC). Voided reports never count. For
/// commissioners, figures from 1 to the disclosure threshold − 1 are null.
#[utoipa::path(
    tag = "statistics",
    params(SpikeFilter),
    responses(
        (status = 200, description = "The areas flagged, with the figures behind each", body = SpikeReport),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        responses::SignedInErrors,
    ),
    security(("bearer" = []))
)]
#[get("/alerts/spikes")]
pub async fn spikes(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<SpikeFilter>,
) -> Result<HttpResponse, ApiError> {
    let report = stats::spikes::report(&state.db, principal, state.disclosure_threshold, query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(report))
}
