-- 0014_notice_rules_to_svc.sql - the two triggers of 0006 go;
-- their rules are svc's now (svc/notices.c, docs/notices.md).
--
-- notices_token_deleted cancelled a deleted token's pending notices, and
-- notices_token_shortened retired a token whose expiry was shortened
-- (rotation) and cancelled its pending ones. Both are business rules with
-- wording of their own, and they read SQLite's wall clock: the use cases
-- that delete tokens or cut an expiry short now do both themselves,
-- through store_notice_cancel_* and store_notice_retire, in their own
-- transaction and at their own time (which the test clock drives).
--
-- What stays in the schema is referential: a retirement from notices is
-- the token's, so notice_retired_tokens is made again with a foreign key
-- to tokens, ON DELETE CASCADE. That does what the delete trigger's last
-- statement did, for every statement that deletes tokens: a deleted
-- token's retirement goes with it. Rows of tokens already gone (the
-- trigger left none) are not carried over.

DROP TRIGGER IF EXISTS notices_token_shortened;
DROP TRIGGER IF EXISTS notices_token_deleted;

CREATE TABLE notice_retired_tokens_0014 (
    token_id    TEXT    PRIMARY KEY REFERENCES tokens (id) ON DELETE CASCADE,
    retired_at  INTEGER NOT NULL
);

INSERT INTO notice_retired_tokens_0014 (token_id, retired_at)
    SELECT r.token_id, r.retired_at FROM notice_retired_tokens r
     WHERE EXISTS (SELECT 1 FROM tokens t WHERE t.id = r.token_id);

DROP TABLE notice_retired_tokens;
ALTER TABLE notice_retired_tokens_0014 RENAME TO notice_retired_tokens;
