DROP TABLE login_throttle;
ALTER TABLE refresh_tokens DROP COLUMN generation;
DROP TABLE sessions;
