-- Foundation: areas, organisations, users and their roles, products,
-- refresh tokens and the audit log. Ids are UUID text, times are UTC.

CREATE TABLE areas (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    parent_id TEXT REFERENCES areas (id),
    population_at_risk INTEGER CHECK (population_at_risk >= 0),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX areas_parent_id ON areas (parent_id);

CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('recovery_hub', 'lero', 'drug_service', 'pharmacy', 'prison', 'hospital', 'outreach_team', 'other')),
    area_id TEXT NOT NULL REFERENCES areas (id),
    tracks_stock BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX organisations_area_id ON organisations (area_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations (id),
    area_id TEXT REFERENCES areas (id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_organisation_id ON users (organisation_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'trainer', 'peer', 'commissioner')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE products (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL CHECK (route IN ('intramuscular', 'intranasal')),
    doses_per_kit INTEGER NOT NULL CHECK (doses_per_kit > 0),
    mg_per_dose DOUBLE NOT NULL CHECK (mg_per_dose > 0),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

INSERT INTO products (id, name, route, doses_per_kit, mg_per_dose, created_at, updated_at) VALUES
    ('0194f0a0-0000-7000-8000-000000000001', 'Prenoxad 2 mg/2 ml syringe', 'intramuscular', 5, 0.4, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('0194f0a0-0000-7000-8000-000000000002', 'Nyxoid 1.8 mg nasal spray', 'intranasal', 2, 1.8, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('0194f0a0-0000-7000-8000-000000000003', 'Naloxone 4 mg nasal spray', 'intranasal', 2, 4.0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);

CREATE TABLE audit_entries (
    id TEXT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users (id),
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    request_id TEXT
);
CREATE INDEX audit_entries_entity ON audit_entries (entity_type, entity_id);
