ALTER TABLE users DROP COLUMN legacy_flag;
DELETE FROM sessions WHERE expires_at < now() - interval '30 days';
DROP TABLE old_orders;
