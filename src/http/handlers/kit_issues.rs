//! `/api/v1/kit-issues`: handouts.

use crate::domain::error::RecordRef;
use crate::domain::kit_issues::{self, KitIssue, KitIssueFilter, KitIssuePatch, NewKitIssue};
use crate::http::problem::record_url;

record_endpoints! {
    record: KitIssue, new: NewKitIssue, patch: KitIssuePatch, filter: KitIssueFilter,
    tag: "kit issues", id: "Kit issue id", url: |issue: &KitIssue| record_url(&RecordRef::KitIssue(issue.id.clone())),
    /// Records a handout. The same id with the same body again answers 200
    /// with the stored record; with another body, 409. A handout that a rule
    /// about the world stands in the way of (no valid certificate at the
    /// time, no batch where the organisation tracks stock, a batch expired or
    /// recalled then, too few kits in the peer's hands, no consent for a
    /// family member, a repeat reason missing or out of place, a time ahead
    /// of the server's clock) is stored as held and answered 202: it counts
    /// and takes its kits once a coordinator releases it.
    create("create_kit_issue", "Recorded", "Recorded as held: `held_reasons` says what stands in its way; a coordinator releases it", "The record's URL", "Already recorded: the stored record")
        at "/kit-issues" by |state, principal, new| kit_issues::create(&state.db, principal, &state.recipient_code_key, new);
    /// Lists handouts: a peer their own, a coordinator their organisation's, an admin all.
    list("list_kit_issues", "A page of handouts, oldest record first");
    /// Reads a handout (voided ones too).
    get("get_kit_issue", "The handout") at "/kit-issues/{id}";
    /// Corrects a handout; its stock moves with it.
    update("update_kit_issue", "The corrected handout");
    /// Voids a handout: it stays readable, stops counting, and its kits go back to the peer. Voiding again changes nothing.
    void("void_kit_issue", "The voided handout") at "/kit-issues/{id}/void";
    /// Releases a held handout (a coordinator of its organisation or an admin, with a
    /// reason for the audit log): its rules are judged again and, if nothing stands in its way
    /// now, it counts from here. 409 `still_held` names what still does. Releasing a recorded
    /// handout changes nothing.
    release("release_kit_issue", "The released handout") at "/kit-issues/{id}/release";
}
