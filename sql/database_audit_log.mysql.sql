-- database_audit_log for MySQL/MariaDB clients (in the client's database): one row per change made through
-- Atrium's management API (/management/*). MySQL commits DDL implicitly, so Atrium writes the row right
-- after the statement succeeds; a statement that fails leaves no row. Management routes answer 503
-- (audit_log_missing) until this table exists.
--
-- Install: mysql -h HOST -u USER -p DATABASE < sql/database_audit_log.mysql.sql
--      or: curl -X POST -H "apikey: $ATHENA_KEY_12" http://localhost:8000/admin/clients/<client>/audit-log
-- Safe to run again. Atrium needs exactly these columns; more columns (with defaults) are fine.

CREATE TABLE IF NOT EXISTS database_audit_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  occurred_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  actor VARCHAR(255) NOT NULL,
  api_key_id VARCHAR(64) NULL,
  client_name VARCHAR(255) NOT NULL,
  operation VARCHAR(100) NOT NULL,
  object_schema VARCHAR(64) NULL,
  object_name VARCHAR(255) NOT NULL,
  statement TEXT NOT NULL,
  details JSON NOT NULL,
  request_id VARCHAR(128) NULL,
  KEY database_audit_log_occurred_at (occurred_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
