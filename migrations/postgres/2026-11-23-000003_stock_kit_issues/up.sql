-- Stock (batches received, kits allocated to peers, the ledger of every
-- movement) and the kit handouts peers record.

CREATE TABLE batches (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    lot_number TEXT NOT NULL,
    expires_on DATE NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    -- Kits in the organisation's store, not allocated to anyone.
    unallocated INTEGER NOT NULL CHECK (unallocated >= 0),
    recalled_at TIMESTAMP,
    recall_reason TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX batches_organisation ON batches (organisation_id);

-- Kits of a batch in a peer's hands.
CREATE TABLE stock_allocations (
    batch_id TEXT NOT NULL REFERENCES batches (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
    PRIMARY KEY (batch_id, user_id)
);
CREATE INDEX stock_allocations_user ON stock_allocations (user_id);

CREATE TABLE kit_issues (
    id TEXT PRIMARY KEY NOT NULL,
    distributor_id TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    issued_at TIMESTAMP NOT NULL,
    area_id TEXT NOT NULL REFERENCES areas (id),
    postcode_district TEXT,
    setting TEXT NOT NULL CHECK (setting IN ('outreach', 'hub_drop_in', 'home_visit', 'hospital_in_reach', 'prison_release', 'pharmacy', 'event', 'other')),
    product_id TEXT NOT NULL REFERENCES products (id),
    batch_id TEXT REFERENCES batches (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    recipient_type TEXT NOT NULL CHECK (recipient_type IN ('person_at_risk', 'family_friend', 'service_worker', 'unknown')),
    consent_recorded BOOLEAN,
    supply TEXT CHECK (supply IN ('first', 'repeat')),
    repeat_reason TEXT CHECK (repeat_reason IN ('used_on_overdose', 'lost', 'stolen', 'confiscated', 'expired', 'damaged', 'other')),
    brief_training_given BOOLEAN,
    recipient_code_hash TEXT,
    age_band TEXT CHECK (age_band IN ('under_18', '18_to_24', '25_to_34', '35_to_44', '45_to_54', '55_to_64', '65_or_over')),
    gender TEXT CHECK (gender IN ('female', 'male', 'non_binary', 'other', 'not_stated')),
    request_fingerprint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    voided_at TIMESTAMP,
    void_reason TEXT
);
CREATE INDEX kit_issues_organisation ON kit_issues (organisation_id, issued_at);
CREATE INDEX kit_issues_distributor ON kit_issues (distributor_id, issued_at);
CREATE INDEX kit_issues_area ON kit_issues (area_id, issued_at);

-- The ledger: every change to stock, with who made it.
CREATE TABLE stock_movements (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('receive', 'allocate', 'return', 'write_off', 'issue', 'issue_reversed')),
    batch_id TEXT NOT NULL REFERENCES batches (id),
    -- The peer whose allocation changed; NULL for the organisation's store only.
    user_id TEXT REFERENCES users (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    reason TEXT CHECK (reason IN ('expired', 'damaged', 'recalled', 'lost')),
    kit_issue_id TEXT REFERENCES kit_issues (id),
    recorded_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX stock_movements_batch ON stock_movements (batch_id);
