-- A session: one sign-in and the refresh tokens that follow from it (a
-- family). Access tokens name their session (`sid`), and every request
-- checks it has not ended. `generation` counts the rotations: tokens of the
-- current generation are the ones to use; the generation before it may be
-- presented again for `REFRESH_GRACE_SECONDS` after `rotated_at`.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    generation INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- The families stored so far become sessions: live while one of their
-- tokens is unused and unrevoked (that token is generation 1).
INSERT INTO sessions (id, user_id, generation, created_at, rotated_at, revoked_at)
SELECT family_id, MIN(user_id), 1, MIN(created_at), MAX(created_at),
       CASE WHEN SUM(CASE WHEN used_at IS NULL AND revoked_at IS NULL THEN 1 ELSE 0 END) = 0
            THEN COALESCE(MAX(revoked_at), MAX(used_at)) END
FROM refresh_tokens
GROUP BY family_id;

ALTER TABLE refresh_tokens ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
UPDATE refresh_tokens SET generation = 1 WHERE used_at IS NULL AND revoked_at IS NULL;

-- Sign-in attempts, counted before the password is checked: per account and
-- client address, per account (`address` empty) and per address (`account`
-- empty). Rows are forgotten after `forget_at`.
CREATE TABLE login_throttle (
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    forget_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account, address)
);
CREATE INDEX login_throttle_forget_at ON login_throttle (forget_at);
