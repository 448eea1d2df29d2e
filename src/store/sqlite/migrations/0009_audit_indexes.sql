-- 0009_audit_indexes.sql - the audit trail keeps only its primary key.
-- Every query pages by seq ranges (store_audit_list: a range of the primary
-- key, other filters checked on the rows of the range), so neither
-- secondary index served a query, and each cost the writer on every
-- record: inserts without them take about a quarter less of the audit
-- writer's CPU (docs/performance.md, "Dropping the audit indexes").
-- 0008's backfill ran before this and could still use audit_org.

DROP INDEX IF EXISTS audit_org;
DROP INDEX IF EXISTS audit_time;
