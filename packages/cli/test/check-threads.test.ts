/**
 * `ddl check` on two threads (check-parallel.ts) against one thread, as real processes on real files:
 * the same stdout, stderr and exit code in every format, with and without the Supabase profile, on a
 * migrations directory whose history crosses from the main thread's files to the worker's. Node's
 * own `NODE_DEBUG=worker` log shows whether a worker thread was started.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../bin/ddl.js', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../dist/commands/check-worker.js', import.meta.url)))
const dir = mkdtempSync(join(tmpdir(), 'ddl-check-threads-'))

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

// A Prisma-style history (after documenso's migrations): the old column types and the tables without
// row level security are declared in the first files and used in the last ones.
const migrations: Record<string, string | Buffer> = {
  '20230101_init/migration.sql': `CREATE TABLE "public"."User" ("id" SERIAL NOT NULL, "name" VARCHAR(100), "email" TEXT NOT NULL);
CREATE TABLE "Document" ("id" SERIAL NOT NULL, "title" TEXT NOT NULL, "folderId" INTEGER);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE FUNCTION public.touch() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;
CREATE FUNCTION purge_users() RETURNS void LANGUAGE sql AS $$ DELETE FROM "User" $$;
`,
  '20230102_rls/migration.sql': `ALTER TABLE "Document" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "own" ON "Document" FOR SELECT USING (true);
`,
  '20230103_seed/migration.sql': `INSERT INTO "User" ("name", "email") VALUES ('a', 'a@example.com');
UPDATE "User" SET "name" = 'b' WHERE "id" = 1;
`,
  '20230104_broken/migration.sql': `ALTER TABLE "User" ADD COLUMN "age" INTEGER;
SELEKT 1;
DELETE FROM "User";
`,
  '20230105_down/down.sql': `DROP TABLE "Document";
`,
  '20230106_ignored/migration.sql': `-- ddl:ignore missing-lock-timeout the table is empty
ALTER TABLE "User" ADD CONSTRAINT "c" CHECK ("id" > 0);
-- ddl:ignore no-such-rule a typo in the rule id
CREATE INDEX "i" ON "User"("name");
`,
  '20230107_latin1/migration.sql': Buffer.from([
    0x53, 0x45, 0x4c, 0x45, 0x43, 0x54, 0x20, 0x27, 0xe9, 0x27, 0x3b, 0x0a,
  ]),
  '20230108_types/migration.sql': `ALTER TABLE "Document" ALTER COLUMN "folderId" SET DATA TYPE TEXT;
ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(10);
`,
  '20230109_more/migration.sql': `CREATE TABLE "Folder" ("id" TEXT NOT NULL, "name" TEXT NOT NULL);
ALTER TABLE "Document" RENAME COLUMN "title" TO "name";
DROP TABLE "Folder";
`,
  '20230110_last/migration.sql': `ALTER TABLE "Document" ALTER COLUMN "name" TYPE VARCHAR(20);
TRUNCATE "User";
SELECT purge_users();
`,
}
for (const [path, text] of Object.entries(migrations)) {
  mkdirSync(join(dir, 'migrations', path, '..'), { recursive: true })
  writeFileSync(join(dir, 'migrations', path), text)
}

function check(threads: string, args: readonly string[]) {
  const r = spawnSync(process.execPath, [bin, 'check', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', NODE_DEBUG: 'worker', DDL_CHECK_THREADS: threads },
    maxBuffer: 64 * 1024 * 1024,
  })
  return {
    status: r.status,
    stdout: r.stdout,
    // Without Node's debug log (`WORKER <pid>: ...`, over several lines): what ddl wrote, all of it
    // lines of its own (asserted for the one-thread runs, which start no worker and log nothing).
    stderr: r.stderr
      .split('\n')
      .filter((line) => line.startsWith('ddl check: '))
      .join('\n'),
    rawStderr: r.stderr,
    startedWorker: /WORKER \d+: \[0\] create new worker/.test(r.stderr),
  }
}

describe('ddl check on two threads', () => {
  it('is built (pnpm build; pnpm test builds first)', () => {
    expect(built, 'packages/cli/dist/commands/check-worker.js is missing: run pnpm build').toBe(true)
  })

  for (const format of ['text', 'json', 'sarif', 'gitlab', 'github']) {
    for (const profile of [[], ['--profile', 'supabase']]) {
      it(`writes what one thread writes: --format ${format} ${profile.join(' ')}`, () => {
        const args = ['migrations', '--format', format, ...profile]
        const one = check('1', args)
        const two = check('2', args)
        expect(one.startedWorker).toBe(false)
        expect(one.rawStderr.trimEnd()).toBe(one.stderr)
        expect(two.startedWorker).toBe(true)
        expect(two.stdout).toBe(one.stdout)
        expect(two.stderr).toBe(one.stderr)
        expect(two.status).toBe(one.status)
        // The run found what the history carries across threads, and its errors.
        expect(one.status).toBe(2)
        expect(one.stderr).toContain('20230107_latin1/migration.sql: not valid UTF-8')
        expect(one.stderr).toContain('no-such-rule')
        if (format === 'json') {
          expect(one.stdout).toContain('changes it from integer')
          expect(one.stdout).toContain('changes it from varchar(100)')
          expect(one.stdout.includes('supabase-rls-disabled-in-public')).toBe(profile.length > 0)
          // A function body from the first file (the main thread's) rates a call in the last (the worker's).
          const report = JSON.parse(one.stdout) as { files: { statements: { text: string; tier: string }[] }[] }
          const call = report.files.flatMap((f) => f.statements).find((st) => st.text.startsWith('SELECT purge_users'))
          expect(call?.tier).toBe('destructive')
        }
      })
    }
  }

  it('stays on one thread by default and with standard input', () => {
    expect(check('', ['migrations']).startedWorker).toBe(false)
    const withStdin = spawnSync(process.execPath, [bin, 'check', 'migrations', '-'], {
      cwd: dir,
      encoding: 'utf8',
      input: 'DROP TABLE t;',
      env: { ...process.env, NO_COLOR: '1', NODE_DEBUG: 'worker', DDL_CHECK_THREADS: '2' },
    })
    expect(withStdin.stderr).not.toContain('create new worker')
    expect(withStdin.stdout).toContain('<stdin>')
  })

  it('refuses a DDL_CHECK_THREADS it does not know', () => {
    const r = check('4', ['migrations'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('DDL_CHECK_THREADS must be 1 or 2 (or unset), not "4".')
    expect(r.stdout).toBe('')
  })
})
