//! `/api/v1/kit-issues`: handouts.

use crate::domain::error::RecordRef;
use crate::domain::kit_issues::{self, KitIssue, KitIssueFilter, KitIssuePatch, NewKitIssue};
use crate::http::problem::record_url;

record_endpoints! {
    record: KitIssue, new: NewKitIssue, patch: KitIssuePatch, filter: KitIssueFilter,
    tag: "kit issues", id: "Kit issue id", url: |issue: &KitIssue| record_url(&RecordRef::KitIssue(issue.id.clone())),
    /// Records a handout. The same id with the same body again answers 200
    /// with the stored record; with another body, 409.
    create("create_kit_issue", "Recorded", "The record's URL", "Already recorded: the stored record")
        at "/kit-issues" by |state, principal, new| kit_issues::create(&state.db, principal, &state.recipient_code_key, new);
    /// Lists handouts: a peer their own, a coordinator their organisation's, an admin all.
    list("list_kit_issues", "A page of handouts, oldest record first");
    /// Reads a handout (voided ones too).
    get("get_kit_issue", "The handout") at "/kit-issues/{id}";
    /// Corrects a handout; its stock moves with it.
    update("update_kit_issue", "The corrected handout");
    /// Voids a handout: it stays readable, stops counting, and its kits go back to the peer. Voiding again changes nothing.
    void("void_kit_issue", "The voided handout") at "/kit-issues/{id}/void";
}
