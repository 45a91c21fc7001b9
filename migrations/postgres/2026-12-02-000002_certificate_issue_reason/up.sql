-- Why a certificate was issued with no training (an admin's reason: a
-- certificate from before the tracker, or the first peer trainers).
ALTER TABLE certificates ADD COLUMN issue_reason TEXT;
