//! `/api/v1/reversals`: overdose reversal reports.

use crate::domain::error::RecordRef;
use crate::domain::reversals::{self, NewReversal, Reversal, ReversalFilter, ReversalPatch};
use crate::http::problem::record_url;

record_endpoints! {
    record: Reversal, new: NewReversal, patch: ReversalPatch, filter: ReversalFilter,
    tag: "reversals", id: "Reversal report id", url: |report: &Reversal| record_url(&RecordRef::Reversal(report.id.clone())),
    /// Records a reversal report, and its replacement kit if asked. The same id
    /// with the same body again answers 200 with the stored report; with
    /// another body, 409. A report dated ahead of the server's clock is held
    /// (202). The replacement is judged as any handout: it may be held while
    /// the report is recorded (`replacement_kit_issue_id` names it).
    create("create_reversal", "Recorded", "Recorded as held: `held_reasons` says what stands in its way; a coordinator releases it", "The report's URL", "Already recorded: the stored report")
        at "/reversals" by |state, principal, new| reversals::create(&state.db, principal, state.recipient_code_key.clone(), new);
    /// Lists reports: a peer their own, a coordinator their organisation's, an admin all.
    list("list_reversals", "A page of reports, oldest record first");
    /// Reads a report (voided ones too).
    get("get_reversal", "The report") at "/reversals/{id}";
    /// Corrects a report: its reporter within 7 days, a coordinator of its organisation or an admin at any time.
    update("update_reversal", "The corrected report");
    /// Voids a report: it stays readable and stops counting. Voiding again changes nothing.
    void("void_reversal", "The voided report") at "/reversals/{id}/void";
    /// Releases a held report (a coordinator of its organisation or an admin, with a
    /// reason for the audit log): its rules are judged again and, if nothing stands in its way
    /// now, it counts from here. 409 `still_held` names what still does. Releasing a recorded
    /// report changes nothing.
    release("release_reversal", "The released report") at "/reversals/{id}/release";
}
