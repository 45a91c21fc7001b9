-- Training sessions, who attended, and the certificates that let peers
-- supply naloxone and trainers certify.

CREATE TABLE trainings (
    id TEXT PRIMARY KEY NOT NULL,
    trainer_id TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    delivered_on DATE NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('awareness', 'peer_supplier_course', 'train_the_trainer', 'refresher')),
    setting TEXT NOT NULL CHECK (setting IN ('hub', 'outreach', 'prison', 'hospital', 'community_venue', 'online', 'other')),
    anonymous_attendees INTEGER NOT NULL CHECK (anonymous_attendees >= 0),
    kits_handed_out INTEGER NOT NULL CHECK (kits_handed_out >= 0),
    recorded_by TEXT NOT NULL REFERENCES users (id),
    request_fingerprint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    voided_at TIMESTAMP,
    void_reason TEXT
);
CREATE INDEX trainings_organisation ON trainings (organisation_id, delivered_on);
CREATE INDEX trainings_trainer ON trainings (trainer_id, delivered_on);

CREATE TABLE training_attendees (
    training_id TEXT NOT NULL REFERENCES trainings (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (training_id, user_id)
);
CREATE INDEX training_attendees_user ON training_attendees (user_id);

CREATE TABLE certificates (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    level TEXT NOT NULL CHECK (level IN ('peer_supplier', 'peer_trainer')),
    training_id TEXT REFERENCES trainings (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    issued_by TEXT NOT NULL REFERENCES users (id),
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES users (id),
    revoke_reason TEXT,
    verification_code TEXT NOT NULL UNIQUE
);
CREATE INDEX certificates_holder ON certificates (user_id, level, expires_at);
CREATE INDEX certificates_organisation ON certificates (organisation_id);
