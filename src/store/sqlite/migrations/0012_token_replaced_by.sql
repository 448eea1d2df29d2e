-- 0012_token_replaced_by.sql - which token a rotation replaced a token with.
--
-- '' for a token never rotated. A rotation sets it (with the old token's
-- cut-back expiry) only where it is still '', in the rotating transaction:
-- so a token is rotated once, however many rotations race for it.

ALTER TABLE tokens ADD COLUMN replaced_by TEXT NOT NULL DEFAULT '';
