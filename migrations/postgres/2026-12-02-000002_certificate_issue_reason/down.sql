ALTER TABLE certificates DROP COLUMN issue_reason;
