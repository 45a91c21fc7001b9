-- What a certificate brought in from before the tracker rests on ("paper
-- certificate, NHS Ayrshire course"): plain text, kept with it and in the audit log.
ALTER TABLE certificates ADD COLUMN evidence TEXT;
