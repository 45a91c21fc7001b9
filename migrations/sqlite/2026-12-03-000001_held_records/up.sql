-- Records of things that happened, kept even when a rule about the world
-- (a certificate, stock, a batch, the time, a person's standing) stands in
-- their way: held, not counted, until a coordinator releases or voids them.
-- `state` says where a record stands; `held_reasons` (a JSON array of
-- {code, field, message}) why it is held, and stays as it was once it is
-- released or voided, so the record shows what it went through;
-- `released_at` and `release_reason` when and why a coordinator let it through.
ALTER TABLE kit_issues ADD COLUMN state TEXT NOT NULL DEFAULT 'recorded' CHECK (state IN ('recorded', 'held', 'voided'));
ALTER TABLE kit_issues ADD COLUMN held_reasons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE kit_issues ADD COLUMN released_at TIMESTAMP;
ALTER TABLE kit_issues ADD COLUMN release_reason TEXT;
UPDATE kit_issues SET state = 'voided' WHERE voided_at IS NOT NULL;
CREATE INDEX kit_issues_held ON kit_issues (organisation_id) WHERE state = 'held';

ALTER TABLE reversals ADD COLUMN state TEXT NOT NULL DEFAULT 'recorded' CHECK (state IN ('recorded', 'held', 'voided'));
ALTER TABLE reversals ADD COLUMN held_reasons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE reversals ADD COLUMN released_at TIMESTAMP;
ALTER TABLE reversals ADD COLUMN release_reason TEXT;
UPDATE reversals SET state = 'voided' WHERE voided_at IS NOT NULL;
CREATE INDEX reversals_held ON reversals (organisation_id) WHERE state = 'held';

ALTER TABLE trainings ADD COLUMN state TEXT NOT NULL DEFAULT 'recorded' CHECK (state IN ('recorded', 'held', 'voided'));
ALTER TABLE trainings ADD COLUMN held_reasons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE trainings ADD COLUMN released_at TIMESTAMP;
ALTER TABLE trainings ADD COLUMN release_reason TEXT;
UPDATE trainings SET state = 'voided' WHERE voided_at IS NOT NULL;
CREATE INDEX trainings_held ON trainings (organisation_id) WHERE state = 'held';
