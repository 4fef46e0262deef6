-- Idempotency keys for HTTP POST: the first request with a key claims it (in flight),
-- its response is kept once carried out (finished), and retries get that response again.
-- A key belongs to one user; claims expire after 24 hours (see src/idempotency.rs). No
-- foreign key to users: rows are short-lived, and expired ones are swept by created_at.
CREATE TABLE idempotency_keys (
    user_id      INTEGER NOT NULL,
    key          TEXT NOT NULL,
    -- A hash of method, path and body, computed by the caller.
    fingerprint  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('in_flight', 'finished')),
    -- The response, once finished.
    status       INTEGER,
    content_type TEXT,
    etag         TEXT,
    body         BLOB,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, key),
    CHECK (state = 'in_flight'
        OR (status IS NOT NULL AND content_type IS NOT NULL AND body IS NOT NULL))
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
