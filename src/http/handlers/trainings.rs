//! `/api/v1/trainings`: training sessions delivered.

use crate::domain::error::RecordRef;
use crate::domain::trainings::{self, NewTraining, Session, Training, TrainingFilter, TrainingPatch};
use crate::http::problem::record_url;

record_endpoints! {
    record: Session, new: NewTraining, patch: TrainingPatch, filter: TrainingFilter,
    tag: "trainings", id: "Training id", url: |training: &Training| record_url(&RecordRef::Training(training.id.clone())),
    /// Records a training session. The same id with the same body again
    /// answers 200 with the stored session; with another body, 409.
    /// Attendees are people of the trainer's organisation or of an
    /// organisation in its area or beneath it, whoever records it (an admin
    /// may list anyone): a session naming someone beyond that is held
    /// (`attendee_out_of_reach`), as is one whose trainer is no longer
    /// active or dated after today.
    create("create_training", "Recorded", "Recorded as held: `held_reasons` says what stands in its way; a coordinator releases it", "The session's URL", "Already recorded: the stored session")
        at "/trainings" by |state, principal, new| trainings::create(&state.db, principal, new);
    /// Lists sessions: a trainer their own, a coordinator their organisation's, an admin all.
    list("list_trainings", "A page of sessions, oldest record first");
    /// Reads a session (voided ones too).
    get("get_training", "The session") at "/trainings/{id}";
    /// Corrects a session: its trainer within 7 days, a coordinator of its organisation or an admin at any time.
    update("update_training", "The corrected session");
    /// Voids a session: it stays readable and stops counting. Voiding again changes nothing.
    void("void_training", "The voided session") at "/trainings/{id}/void";
    /// Releases a held session (a coordinator of its organisation or an admin, with a
    /// reason for the audit log): its rules are judged again and, if nothing stands in its way
    /// now, it counts from here. 409 `still_held` names what still does. Releasing a recorded
    /// session changes nothing.
    release("release_training", "The released session") at "/trainings/{id}/release";
}
