-- Running totals behind the statistics, kept by every write, correction
-- and void in the same transaction, so that a query reads a number of
-- cells that does not grow with the years of records behind them.
--
-- One table serves handouts, reversal reports and trainings (`subject`).
-- Each record adds to four rollups: by day and by month, each with every
-- dimension (`detail`) and with only its area (`area`).
-- `key_1` to `key_4` and `count_1` to `count_5` hold the subject's own
-- dimensions and counts; src/stats/cells.rs names them. An empty string
-- is a dimension rolled up or not recorded.

CREATE TABLE stat_cells (
    subject TEXT NOT NULL CHECK (subject IN ('kit_issues', 'reversals', 'trainings')),
    rollup SMALLINT NOT NULL CHECK (rollup BETWEEN 1 AND 4),
    bucket DATE NOT NULL,
    area_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    key_1 TEXT NOT NULL,
    key_2 TEXT NOT NULL,
    key_3 TEXT NOT NULL,
    key_4 TEXT NOT NULL,
    count_1 INTEGER NOT NULL,
    count_2 INTEGER NOT NULL,
    count_3 INTEGER NOT NULL,
    count_4 INTEGER NOT NULL,
    count_5 INTEGER NOT NULL,
    PRIMARY KEY (subject, rollup, bucket, area_id, organisation_id, product_id, key_1, key_2, key_3, key_4)
) WITHOUT ROWID;

-- Certificates: "active certified peers" and "expiring soon" look by expiry.
CREATE INDEX certificates_expiry ON certificates (expires_at);
