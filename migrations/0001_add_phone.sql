-- ddl diff: from /tmp/ddl-cli-diff-WYOTzV/migrations
--           to   /tmp/ddl-cli-diff-WYOTzV/schema.sql
-- 1 statements: 1 safe, 0 cautious, 0 destructive. Running them needs no flag.

-- safe; lock AccessExclusiveLock
--   missing-lock-timeout (safe): ALTER TABLE "public"."users" ADD COLUMN ... waits for an ACCESS EXCLUSIVE lock on public.users with no lock_timeout set: while it waits behind a long-running query, every query that reads or writes public.users queues behind it.
--     Start the migration with SET lock_timeout = '5s' (and retry it when it times out), so a lock it cannot get fails fast instead of stalling the table.
ALTER TABLE "public"."users" ADD COLUMN "phone" text;
