//! What a phone needs to work offline: one call to send its whole queue,
//! judged item by item, and one to fetch what it caches.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::certificates::{self, Certificate};
use super::decode::decode_item;
use super::error::Error;
use super::kit_issues::{self, Draft, KitIssue, Lookups, NewKitIssue};
use super::principal::Principal;
use super::records::Submission;
use super::reversals::{self, NewReversal, Reversal};
use super::stats::counting::{counting, Tally};
use super::stock::{self, StockFilter, StockLine};
use super::trainings::{self, NewTraining, Training};
use crate::model::records::HeldReasons;
use crate::model::roles::Role;
use crate::storage::areas::Area;
use crate::storage::products::Product;
use crate::storage::stock::Batch;
use crate::storage::{self as store, Database, DbConnection};

/// The most records one sync call may carry.
pub const MAX_ITEMS: usize = 500;

fn at_most_max_items(request: &SyncRequest) -> Result<(), ValidationError> {
    if request.kit_issues.len() + request.reversals.len() + request.trainings.len() > MAX_ITEMS {
        return Err(ValidationError::new("too_many_items")
            .with_message(format!("send at most {MAX_ITEMS} records per call").into()));
    }
    Ok(())
}

/// A phone's queue of records, each judged on its own. Each is kept as the
/// text it was sent in and read from it as a single POST's body is, so that
/// a record refused there (a repeated key, say) is refused here too.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "at_most_max_items"))]
pub struct SyncRequest {
    #[serde(default)]
    #[schema(value_type = Vec<NewKitIssue>)]
    pub kit_issues: Vec<Box<RawValue>>,
    #[serde(default)]
    #[schema(value_type = Vec<NewReversal>)]
    pub reversals: Vec<Box<RawValue>>,
    #[serde(default)]
    #[schema(value_type = Vec<NewTraining>)]
    pub trainings: Vec<Box<RawValue>>,
}

/// A record of a queue as stored: its id, and why it is held (none: recorded).
#[derive(Debug, Clone)]
pub struct Filed {
    pub id: String,
    pub held_reasons: HeldReasons,
}

/// What became of one record of a queue: stored (now or before, held with
/// its reasons or not), or why not.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The item's id as sent, when it had a readable one.
    pub id: Option<String>,
    pub outcome: Result<Submission<Filed>, Error>,
}

/// One judgement per item, in the order sent.
#[derive(Debug)]
pub struct Judgements {
    pub kit_issues: Vec<Judged>,
    pub reversals: Vec<Judged>,
    pub trainings: Vec<Judged>,
}

/// The item's id, when it has a readable one: an object with one `id`, a string.
fn item_id(item: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct Identified {
        id: Option<String>,
    }
    serde_json::from_str::<Identified>(item.get()).ok().and_then(|found| found.id)
}

/// Reads and validates one item.
fn decode<T: DeserializeOwned + Validate>(item: &RawValue) -> Result<T, Error> {
    let record: T = decode_item(item)?;
    record.validate()?;
    Ok(record)
}

/// An item's judgement, from what became of it. An error that ends the
/// call (the database failing, or a race lost to another call) is no fault
/// of the item: the whole call fails and is tried again.
fn judged(item: &RawValue, outcome: Result<Submission<Filed>, Error>) -> Result<Judged, Error> {
    match outcome {
        Err(error) if error.ends_the_call() => Err(error),
        outcome => Ok(Judged { id: item_id(item), outcome }),
    }
}

/// Judges one item in a savepoint of its own, so that a refused item
/// leaves nothing behind and does not stop the others.
fn judge<T, F>(conn: &mut DbConnection, tally: &mut Tally, item: &RawValue, submit: &mut F) -> Result<Judged, Error>
where
    T: DeserializeOwned + Validate,
    F: FnMut(&mut DbConnection, &mut Tally, T) -> Result<Submission<Filed>, Error>,
{
    let record: T = match decode(item) {
        Ok(record) => record,
        Err(error) => return judged(item, Err(error)),
    };
    // The item's counts join the call's only once its savepoint stands.
    let mut counts = tally.fresh();
    let outcome = store::savepoint(conn, |c| submit(c, &mut counts, record));
    if outcome.is_ok() {
        tally.merge(counts);
    }
    judged(item, outcome)
}

/// Reads, validates and drafts each handout, before the writer is taken.
fn draft_kit_issues(
    principal: &Principal,
    key: &[u8],
    items: &[Box<RawValue>],
) -> Result<Vec<Result<Draft, Judged>>, Error> {
    items
        .iter()
        .map(|item| match decode::<NewKitIssue>(item).and_then(|new| kit_issues::draft(principal, key, &new)) {
            Ok(drafted) => Ok(Ok(drafted)),
            Err(error) => judged(item, Err(error)).map(Err),
        })
        .collect()
}

/// Judges the drafted handouts together (see [`kit_issues::submit_all`]):
/// the judgements come back in the order sent.
fn judge_kit_issues(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    tally: &mut Tally,
    items: &[Box<RawValue>],
    drafts: &[Result<Draft, Judged>],
) -> Result<Vec<Judged>, Error> {
    let ready: Vec<&Draft> = drafts.iter().filter_map(|d| d.as_ref().ok()).collect();
    let mut outcomes = kit_issues::submit_all(conn, lookups, tally, &ready)?.into_iter();
    items
        .iter()
        .zip(drafts)
        .map(|(item, drafted)| match drafted {
            Ok(_) => {
                let outcome = outcomes.next().unwrap_or_else(|| Err(Error::internal("a handout went unanswered")));
                let filed = |issue: KitIssue| Filed { id: issue.id.to_string(), held_reasons: issue.held_reasons };
                judged(item, outcome.map(|stored| stored.map(filed)))
            }
            Err(judgement) => Ok(judgement.clone()),
        })
        .collect()
}

/// A queue read and its handouts drafted (before the writer is taken),
/// ready to be judged on a connection.
pub struct Queue {
    request: SyncRequest,
    kit_drafts: Vec<Result<Draft, Judged>>,
}

impl Queue {
    /// Reads the queue of a caller who may submit records at all; one who
    /// may not is refused as a whole.
    pub fn read(principal: &Principal, key: &[u8], request: SyncRequest) -> Result<Self, Error> {
        principal.require_any(&[Role::Peer, Role::Trainer, Role::Coordinator, Role::Admin])?;
        let kit_drafts = draft_kit_issues(principal, key, &request.kit_issues)?;
        Ok(Queue { request, kit_drafts })
    }
}

/// Judges a queue inside the caller's transaction, a savepoint per item,
/// the running totals counted as the items stand.
pub fn judge_queue(
    conn: &mut DbConnection,
    principal: &Principal,
    key: &[u8],
    queue: &Queue,
) -> Result<Judgements, Error> {
    counting(conn, |conn, tally| {
        let Queue { request, kit_drafts } = queue;
        let mut lookups = Lookups::default();
        let kit_issues = judge_kit_issues(conn, &mut lookups, tally, &request.kit_issues, kit_drafts)?;
        let mut submit_training = |c: &mut DbConnection, t: &mut Tally, new: NewTraining| {
            let filed = |session: Training| Filed { id: session.id.to_string(), held_reasons: session.held_reasons };
            trainings::submit(c, t, principal, new).map(|stored| stored.map(filed))
        };
        let trainings = request
            .trainings
            .iter()
            .map(|item| judge(conn, tally, item, &mut submit_training))
            .collect::<Result<_, _>>()?;
        let mut submit_reversal = |c: &mut DbConnection, t: &mut Tally, new: NewReversal| {
            let filed = |report: Reversal| Filed { id: report.id.to_string(), held_reasons: report.held_reasons };
            reversals::submit(c, &mut lookups, t, principal, key, new).map(|stored| stored.map(filed))
        };
        let reversals = request
            .reversals
            .iter()
            .map(|item| judge(conn, tally, item, &mut submit_reversal))
            .collect::<Result<_, _>>()?;
        Ok(Judgements { kit_issues, reversals, trainings })
    })
}

/// Stores a phone's queue (handouts, reversal reports, trainings), each
/// record judged on its own. Sending the same queue again creates nothing
/// new.
pub async fn sync(
    db: &Database,
    principal: Principal,
    key: Vec<u8>,
    request: SyncRequest,
) -> Result<Judgements, Error> {
    let call = std::sync::Arc::new((Queue::read(&principal, &key, request)?, principal, key));
    // One transaction for the whole call (one commit, one disk sync), a
    // savepoint per item. Losing a race for an id to another call
    // (PostgreSQL) rolls it all back; the second try sees the winner's records.
    super::transaction::write(db, move |conn| {
        let (queue, principal, key) = &*call;
        judge_queue(conn, principal, key, queue)
    })
    .await
}

/// What a phone caches to work offline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reference {
    pub products: Vec<Product>,
    pub areas: Vec<Area>,
    /// The caller's organisation's batches that are neither recalled nor expired.
    pub batches: Vec<Batch>,
    /// The kits in the caller's hands.
    pub stock: Vec<StockLine>,
    pub certificates: Vec<Certificate>,
}

/// Products, areas, the caller's batches, stock and certificates.
pub async fn reference(db: &Database, principal: Principal) -> Result<Reference, Error> {
    db.run(move |conn| {
        let products = store::products::all(conn)?;
        let areas = store::areas::all(conn)?;
        let (batches, stock) = match &principal.organisation_id {
            Some(organisation) => {
                let today = chrono::Utc::now().date_naive();
                let batches = store::stock::usable_batches(conn, organisation, today)?;
                let stock =
                    stock::on_hand(conn, Some(organisation), Some(&principal.user_id), &StockFilter::default())?;
                (batches, stock)
            }
            None => (Vec::new(), Vec::new()),
        };
        let (certificates, _) = certificates::of_holder(conn, &principal.user_id)?;
        Ok(Reference { products, areas, batches, stock, certificates })
    })
    .await
}
