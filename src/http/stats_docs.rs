//! The OpenAPI description of the statistics tables and their query
//! parameters, built from the same lists of dimensions and counts that
//! drive the queries, so the two cannot drift apart.

use std::borrow::Cow;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr, Required, Schema};

use crate::domain::stats::period::Grain;
use crate::model::stats::{Dimension, Subject};

fn nullable(kind: Type) -> SchemaType {
    SchemaType::from_iter([kind, Type::Null])
}

fn uuid_format() -> Option<SchemaFormat> {
    Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))
}

fn date_format() -> Option<SchemaFormat> {
    Some(SchemaFormat::KnownFormat(KnownFormat::Date))
}

/// The schema of a dimension's values (an id or one of a list), or null
/// too when `or_null` (a list's enum then holds null as well).
fn dimension_schema(dimension: Dimension, or_null: bool) -> ObjectBuilder {
    let kind = if or_null { nullable(Type::String) } else { Type::String.into() };
    let builder = ObjectBuilder::new().schema_type(kind);
    match dimension.values() {
        None => builder.format(uuid_format()),
        Some(values) => {
            let mut values: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
            if or_null {
                values.push(serde_json::Value::Null);
            }
            builder.enum_values(Some(values))
        }
    }
}

fn row_schema(subject: Subject, with_keys: bool) -> Schema {
    let mut row = ObjectBuilder::new();
    if with_keys {
        row = row.property(
            "period",
            ObjectBuilder::new().schema_type(Type::String).description(Some(
                "With a period in group_by: `2026-11-23`, `2026-W48` (ISO week), `2026-11`, `2026-Q4` or `2026`",
            )),
        );
        for dimension in subject.dimensions() {
            row = row.property(
                dimension.field(),
                dimension_schema(dimension, true)
                    .description(Some("With this dimension in group_by; null when not recorded")),
            );
        }
    }
    let counts = subject.counts();
    for count in counts {
        row = row
            .property(
                *count,
                ObjectBuilder::new()
                    .schema_type(nullable(Type::Integer))
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(0))
                    .description(Some("null when suppressed")),
            )
            .required(*count);
    }
    row.property(
        "suppressed",
        ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(counts.to_vec())))
            .description(Some("The counts of this row hidden by disclosure control")),
    )
    .required("suppressed")
    .build()
    .into()
}

/// The names of a table's row and totals schemas: `KitStatsRow`, `KitStatsTotals`, …
fn row_name(subject: Subject) -> String {
    format!("{}Row", table_prefix(subject))
}

fn totals_name(subject: Subject) -> String {
    format!("{}Totals", table_prefix(subject))
}

fn table_prefix(subject: Subject) -> &'static str {
    match subject {
        Subject::KitIssues => "KitStats",
        Subject::Reversals => "ReversalStats",
        Subject::Trainings => "TrainingStats",
    }
}

fn table_schema(subject: Subject) -> Schema {
    let date = |description: &'static str| {
        ObjectBuilder::new().schema_type(nullable(Type::String)).format(date_format()).description(Some(description))
    };
    ObjectBuilder::new()
        .property("from", date("First day counted, as asked"))
        .property("to", date("Last day counted, as asked"))
        .property("group_by", ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
        .property(
            "disclosure_threshold",
            ObjectBuilder::new()
                .schema_type(nullable(Type::Integer))
                .description(Some("For commissioners: counts below it are suppressed. null: exact counts")),
        )
        .property("rows", ArrayBuilder::new().items(Ref::from_schema_name(row_name(subject))))
        .property("totals", Ref::from_schema_name(totals_name(subject)))
        .required("from")
        .required("to")
        .required("group_by")
        .required("disclosure_threshold")
        .required("rows")
        .required("totals")
        .build()
        .into()
}

fn query(name: &str, schema: impl Into<RefOr<Schema>>, description: String) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

fn params(subject: Subject) -> Vec<Parameter> {
    let dimensions = subject.dimensions();
    let mut group_names: Vec<&str> = Grain::ALL.iter().map(|g| g.name()).collect();
    group_names.extend(dimensions.iter().map(|d| d.name()));
    let mut all = vec![
        query(
            "from",
            ObjectBuilder::new().schema_type(Type::String).format(date_format()),
            "First day counted (UTC)".to_owned(),
        ),
        query(
            "to",
            ObjectBuilder::new().schema_type(Type::String).format(date_format()),
            "Last day counted (UTC)".to_owned(),
        ),
        query(
            "group_by",
            ObjectBuilder::new().schema_type(Type::String).pattern(Some(group_by_pattern(&group_names, &dimensions))),
            format!(
                "Comma separated, any of: {} (one period at most). `area_id`, `organisation_id` and \
                 `product_id` are accepted for area, organisation and product",
                group_names.join(", ")
            ),
        ),
    ];
    for dimension in dimensions {
        let description = match dimension {
            Dimension::Area => "Only this area and the areas beneath it".to_owned(),
            other => format!("Only this {}", other.name().replace('_', " ")),
        };
        all.push(query(dimension.field(), dimension_schema(dimension, false), description));
    }
    all
}

/// What `group_by` accepts, as the parser reads it: comma-separated names
/// (or the dimensions' field names), spaces around them and empty parts
/// ignored. One period at most and no name twice are rules a pattern
/// cannot say; breaking them answers 400.
fn group_by_pattern(group_names: &[&str], dimensions: &[Dimension]) -> String {
    let mut names: Vec<&str> = group_names.to_vec();
    names.extend(dimensions.iter().map(|d| d.field()).filter(|f| !group_names.contains(f)));
    let name = format!(r"\s*({})?\s*", names.join("|"));
    format!("^{name}(,{name})*$")
}

/// Declares a table's schema and query parameters for one subject.
macro_rules! subject_docs {
    ($table:ident, $params:ident, $subject:expr) => {
        pub struct $table;

        impl utoipa::PartialSchema for $table {
            fn schema() -> RefOr<Schema> {
                table_schema($subject).into()
            }
        }

        impl utoipa::ToSchema for $table {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($table))
            }

            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((row_name($subject), row_schema($subject, true).into()));
                schemas.push((totals_name($subject), row_schema($subject, false).into()));
            }
        }

        pub struct $params;

        impl utoipa::IntoParams for $params {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                params($subject)
            }
        }
    };
}

subject_docs!(KitStatsTable, KitStatsParams, Subject::KitIssues);
subject_docs!(ReversalStatsTable, ReversalStatsParams, Subject::Reversals);
subject_docs!(TrainingStatsTable, TrainingStatsParams, Subject::Trainings);
