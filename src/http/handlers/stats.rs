//! `/api/v1/stats/*` and `/api/v1/alerts/spikes`: statistics for
//! commissioners, coordinators and admins, as JSON or (on `.csv` paths) CSV.

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

/// Answers `/stats/{subject}`: the table as JSON.
async fn answer_json(
    state: web::Data<AppState>,
    principal: Principal,
    http: HttpRequest,
    subject: Subject,
) -> Result<HttpResponse, ApiError> {
    let table = stats::answer(&state.db, principal, state.disclosure_threshold, subject, http.query_string()).await?;
    Ok(HttpResponse::Ok().json(table.to_json()))
}

/// Answers `/stats/{subject}.csv`: the same table's rows for a spreadsheet.
async fn answer_csv(
    state: web::Data<AppState>,
    principal: Principal,
    http: HttpRequest,
    subject: Subject,
) -> Result<HttpResponse, ApiError> {
    let table = stats::answer(&state.db, principal, state.disclosure_threshold, subject, http.query_string()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.csv\"", subject.table_name().replace('_', "-")),
        ))
        .body(table.to_csv()))
}

/// Declares the JSON and the CSV operation of one statistics table.
macro_rules! stats_table {
    (
        $(#[doc = $doc:literal])*
        subject: $subject:expr, table: $table:ty, params: $params:ty, example: $csv_example:literal,
        json: $json_fn:ident = $json_id:literal at $json_path:literal,
        csv: $csv_fn:ident = $csv_id:literal at $csv_path:literal,
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            operation_id = $json_id,
            tag = "statistics",
            params($params),
            responses(
                (status = 200, description = "One row per group, and the totals", body = $table),
                (status = 400, response = responses::BadRequest),
                (status = 403, response = responses::Forbidden),
                responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[get($json_path)]
        pub async fn $json_fn(state: web::Data<AppState>, principal: Principal, http: HttpRequest) -> Result<HttpResponse, ApiError> {
            answer_json(state, principal, http, $subject).await
        }

        /// The same table's rows as CSV (RFC 4180) with a header row, for a
        /// spreadsheet; a suppressed count is `c`. Parameters, scope and
        /// disclosure control as for the JSON table.
        #[utoipa::path(
            operation_id = $csv_id,
            tag = "statistics",
            params($params),
            responses(
                (status = 200, description = "The rows as CSV", content_type = "text/csv", body = String,
                    headers(("Content-Disposition" = String, description = "attachment, with a file name")),
                    example = json!($csv_example)),
                (status = 400, response = responses::BadRequest),
                (status = 403, response = responses::Forbidden),
                responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[get($csv_path)]
        pub async fn $csv_fn(state: web::Data<AppState>, principal: Principal, http: HttpRequest) -> Result<HttpResponse, ApiError> {
            answer_csv(state, principal, http, $subject).await
        }
    };
}

stats_table! {
    /// Handouts: kits, doses and first supplies, by any of period, area,
    /// organisation, setting, recipient type, supply, repeat reason and product.
    ///
    /// Voided and held handouts never count; corrected ones count as
    /// corrected. A commissioner sees their area and the areas beneath it, a
    /// coordinator their organisation, an admin everything. For
    /// commissioners, counts from 1 to the disclosure threshold − 1 (5 by
    /// default) are `null` and named in the row's `suppressed`; wherever a
    /// total would let a single hidden count be worked out, the next
    /// smallest count in that column (or the total) is hidden too, and doses
    /// are hidden with their kits. Zeros stay visible. The same table as CSV
    /// is `/stats/kits.csv`.
    subject: Subject::KitIssues, table: KitStatsTable, params: KitStatsParams,
    example: "period,area_id,kits,doses,first_supplies\r\n2026-01,0194f0a0-0000-7000-8000-0000000000a1,12,42,c\r\n",
    json: kits = "get_kit_stats" at "/stats/kits",
    csv: kits_csv = "get_kit_stats_csv" at "/stats/kits.csv",
}

stats_table! {
    /// Reversal reports: reports, outcomes (survived, died, unknown) and doses
    /// given, by any of period, area, organisation, outcome, administered by,
    /// place and product. Scope and disclosure control as for `/stats/kits`;
    /// a single hidden outcome is never left derivable from the row's
    /// reports. The same table as CSV is `/stats/reversals.csv`.
    subject: Subject::Reversals, table: ReversalStatsTable, params: ReversalStatsParams,
    example: "period,outcome,reports,survived,died,unknown_outcome,doses\r\n2026-01,survived,9,9,0,0,17\r\n",
    json: reversals = "get_reversal_stats" at "/stats/reversals",
    csv: reversals_csv = "get_reversal_stats_csv" at "/stats/reversals.csv",
}

stats_table! {
    /// Trainings: sessions, people trained and certificates issued, by any of
    /// period, area (the organisation's), organisation and kind. A
    /// certificate counts with the session it was issued on (or on the day it
    /// was issued, when it names none). Scope and disclosure control as for
    /// `/stats/kits`. The same table as CSV is `/stats/trainings.csv`.
    subject: Subject::Trainings, table: TrainingStatsTable, params: TrainingStatsParams,
    example: "period,kind,sessions,people_trained,certificates_issued\r\n2026-01,awareness,3,41,0\r\n",
    json: trainings = "get_training_stats" at "/stats/trainings",
    csv: trainings_csv = "get_training_stats_csv" at "/stats/trainings.csv",
}

/// Headline figures for a period and an area: kits, reversals, trainings,
/// active certified peers, certificates expiring within 90 days, and reach
/// (first supplies to people at risk per 1,000 of the area's population at
/// risk). Scope and disclosure control as for `/stats/kits`.
#[utoipa::path(
    operation_id = "get_stats_summary",
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
    operation_id = "list_spike_alerts",
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
