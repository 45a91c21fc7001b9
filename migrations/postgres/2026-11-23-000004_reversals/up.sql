-- Overdose reversal reports: naloxone given, what happened, and the kit
-- used or handed out to replace it.

CREATE TABLE reversals (
    id TEXT PRIMARY KEY NOT NULL,
    reporter_id TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    occurred_at TIMESTAMP NOT NULL,
    area_id TEXT NOT NULL REFERENCES areas (id),
    postcode_district TEXT,
    place TEXT NOT NULL CHECK (place IN ('home', 'other_home', 'street_or_park', 'hostel', 'public_toilet', 'hospital_grounds', 'prison_or_custody', 'other')),
    administered_by TEXT NOT NULL CHECK (administered_by IN ('reporting_peer', 'kit_recipient', 'family_friend', 'service_worker', 'other')),
    product_id TEXT NOT NULL REFERENCES products (id),
    doses INTEGER NOT NULL CHECK (doses BETWEEN 1 AND 10),
    emergency_services_called TEXT NOT NULL CHECK (emergency_services_called IN ('yes', 'no', 'unknown')),
    ambulance_attended TEXT NOT NULL CHECK (ambulance_attended IN ('yes', 'no', 'unknown')),
    rescue_breaths_or_cpr TEXT NOT NULL CHECK (rescue_breaths_or_cpr IN ('yes', 'no', 'unknown')),
    outcome TEXT NOT NULL CHECK (outcome IN ('survived', 'died', 'unknown')),
    age_band TEXT CHECK (age_band IN ('under_18', '18_to_24', '25_to_34', '35_to_44', '45_to_54', '55_to_64', '65_or_over')),
    gender TEXT CHECK (gender IN ('female', 'male', 'non_binary', 'other', 'not_stated')),
    kit_issue_id TEXT REFERENCES kit_issues (id),
    replacement_kit_issue_id TEXT REFERENCES kit_issues (id),
    request_fingerprint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    voided_at TIMESTAMP,
    void_reason TEXT
);
CREATE INDEX reversals_organisation ON reversals (organisation_id, occurred_at);
CREATE INDEX reversals_reporter ON reversals (reporter_id, occurred_at);
CREATE INDEX reversals_area ON reversals (area_id, occurred_at);
