/**
 * What a migration history read in order proves (issue 18): functions defined by earlier files (or
 * later in the same file) are judged by their bodies, a table that no earlier migration created is
 * new, and a constraint, index or trigger made again the same, or kept by a stronger key, loses
 * nothing. Each fixture is shaped on a real migration history, named above it; names are kept,
 * bodies are shortened. Each case is also checked without the history, where it must keep the tier
 * a script of unknown past gets.
 */
import {
  type ClassifyOptions,
  classify,
  init,
  newMigrationHistory,
  type Plan,
  profileOptions,
  type Tier,
} from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await init()
})

function plan(sql: string, options: ClassifyOptions = {}): Plan {
  return classify(sql, options)._unsafeUnwrap()
}

/** Classifies each file in order with one history; returns the last file's plan. */
function run(files: readonly string[], options: ClassifyOptions & { fromStart?: boolean } = {}): Plan {
  const { fromStart, ...rest } = options
  const history = newMigrationHistory({ fromStart: fromStart ?? true })
  let last: Plan | undefined
  for (const file of files) last = plan(file, { ...rest, history })
  return last as Plan
}

function tiers(p: Plan): Tier[] {
  return p.statements.map((s) => s.verdict.tier)
}

function rules(p: Plan): string[] {
  return p.statements.flatMap((s) => s.verdict.findings.map((f) => f.rule))
}

const supabase = profileOptions('supabase')

// mckaywrigley/chatbot-ui, supabase/migrations/20240108234540_setup.sql and
// 20240108234543_add_folders.sql (Supabase CLI layout).
const setup = `CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END;
$$ language 'plpgsql';`

const folders = `CREATE TABLE IF NOT EXISTS folders (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id UUID NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  updated_at TIMESTAMPTZ
);
CREATE INDEX folders_user_id_idx ON folders(user_id);
ALTER TABLE folders ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Allow full access to own folders"
    ON folders
    USING (user_id = auth.uid())
    WITH CHECK (user_id = auth.uid());
CREATE TRIGGER update_folders_updated_at
BEFORE UPDATE ON folders
FOR EACH ROW
EXECUTE PROCEDURE update_updated_at_column();`

const storagePolicy = `CREATE POLICY "Allow public read access on profile images"
    ON storage.objects FOR SELECT
    USING (bucket_id = 'profile_images');`

describe('a Supabase history read from its first migration', () => {
  it('takes a table created IF NOT EXISTS for new, and a trigger function from an earlier file by its body', () => {
    const p = run([setup, folders], supabase)
    expect(p.tier).toBe('safe')
    expect(rules(p)).not.toContain('create-trigger')
    expect(rules(p)).not.toContain('security-change')
  })

  it('keeps them cautious for loose files, which may meet a table already there', () => {
    expect(run([setup, folders], { ...supabase, fromStart: false }).tier).toBe('cautious')
    expect(plan(folders, supabase).tier).toBe('cautious')
  })

  it('still flags a policy on a table the platform owns (storage.objects)', () => {
    const p = run([setup, folders, storagePolicy], supabase)
    expect(p.tier).toBe('cautious')
    expect(rules(p)).toContain('security-change')
  })

  it('does not take a first CREATE OR REPLACE for a replacement, but does the second', () => {
    const deleting = `CREATE OR REPLACE FUNCTION delete_message_including_and_after(p_chat_id UUID)
RETURNS VOID AS $$ BEGIN DELETE FROM messages WHERE chat_id = p_chat_id; END; $$ LANGUAGE plpgsql;`
    const first = run([setup, deleting], supabase)
    expect(rules(first)).not.toContain('replace-function')
    expect(first.tier).toBe('safe')
    const second = run([setup, deleting, deleting], supabase)
    expect(rules(second)).toContain('replace-function')
    expect(second.tier).toBe('cautious')
    // Checked alone, either may replace a function already there.
    expect(plan(deleting).tier).toBe('cautious')
  })

  it('rates a definition whose body calls another server by its calls, not at its creation', () => {
    // chatbot-ui 20240108234540_setup.sql: delete_storage_object sends a DELETE with extensions.http.
    const remote = `CREATE OR REPLACE FUNCTION delete_storage_object(bucket TEXT, object TEXT) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  PERFORM extensions.http(('DELETE', bucket || '/' || object, NULL, NULL, NULL)::extensions.http_request);
END; $$;`
    const defined = run([remote], supabase)
    expect(defined.tier).toBe('cautious') // SECURITY DEFINER, a security change of its own
    expect(rules(defined)).not.toContain('dangerous-function')
    expect(rules(defined)).toContain('function-body')
    expect(run([remote, "SELECT delete_storage_object('b', 'o')"], supabase).tier).toBe('destructive')
    // Without a history a later call cannot be followed: the definition keeps the call's tier.
    expect(plan(remote, supabase).tier).toBe('destructive')
    // A C function's library is loaded when it is created: never lowered.
    expect(run(["CREATE FUNCTION f() RETURNS int AS '/tmp/x.so', 'f' LANGUAGE C"]).tier).toBe('destructive')
  })

  it('never takes a dropped-and-emptied table for new: IF NOT EXISTS then DELETE keeps its tier alone', () => {
    const sql = 'CREATE TABLE IF NOT EXISTS folders (id int); DELETE FROM folders'
    expect(run([sql]).tier).toBe('safe')
    expect(plan(sql).tier).toBe('destructive')
    // Another schema: the platform's, never assumed new.
    expect(run(['CREATE TABLE IF NOT EXISTS auth.users (id int); DELETE FROM auth.users']).tier).toBe('destructive')
  })
})

// documenso/documenso, packages/prisma/migrations/20250522054049_add_id_generator (nanoid calls
// nanoid_optimized, defined after it) and 20250522054050_add_organisations (the calls).
const idGenerator = `CREATE OR REPLACE FUNCTION nanoid(size int DEFAULT 21, alphabet text DEFAULT '0123456789abcdefghijklmnopqrstuvwxyz')
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  idBuilder text := '';
BEGIN
  idBuilder := nanoid_optimized(size, alphabet, 63, 16);
  RETURN idBuilder;
END $$;
CREATE OR REPLACE FUNCTION nanoid_optimized(size int, alphabet text, mask int, step int)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  idBuilder text := '';
  bytes bytea;
BEGIN
  bytes := gen_random_bytes(step);
  idBuilder := idBuilder || substr(alphabet, get_byte(bytes, 0) & mask, 1);
  RETURN idBuilder;
END $$;
CREATE OR REPLACE FUNCTION generate_prefix_id(prefix TEXT) RETURNS TEXT AS $$
BEGIN
  RETURN prefix || '_' || nanoid(16, 'abcdefhiklmnorstuvwxyz');
END;
$$ LANGUAGE plpgsql;`

const organisations = `INSERT INTO "OrganisationMember" ("id", "userId", "organisationId")
SELECT generate_prefix_id('member'), u."id", o."id" FROM "User" u JOIN "Organisation" o ON o."ownerUserId" = u."id";`

describe('functions a history defines', () => {
  const known = { knownFunctions: new Set(['gen_random_bytes']) }

  it('judges a call by the body an earlier file gave it, resolving names the body used before they were defined', () => {
    expect(run([idGenerator, organisations], known).tier).toBe('safe')
    expect(plan(organisations, known).tier).toBe('cautious')
  })

  it('keeps the call cautious while a name its body uses is still undefined', () => {
    const withoutHelper = idGenerator.slice(0, idGenerator.indexOf('CREATE OR REPLACE FUNCTION nanoid_optimized'))
    const p = run(
      [
        `${withoutHelper} CREATE FUNCTION generate_prefix_id(prefix TEXT) RETURNS TEXT LANGUAGE sql AS $$ SELECT nanoid() $$;`,
        organisations,
      ],
      known,
    )
    expect(p.tier).toBe('cautious')
  })

  it('gives the call the tier of what the later definition does, destructive included', () => {
    const caller = 'CREATE FUNCTION tidy() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM purge(); END $$;'
    const purge = 'CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders $$;'
    expect(run([caller, purge, 'SELECT tidy()']).tier).toBe('destructive')
    expect(tiers(plan(`${caller} ${purge} SELECT tidy()`)).at(-1)).toBe('destructive')
    const terminator = 'CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS $$ SELECT pg_terminate_backend(1) $$;'
    expect(run([caller, terminator, 'SELECT tidy()']).tier).toBe('destructive')
  })

  it('forgets a dropped function: a later call of the name reaches whatever else carries it', () => {
    const sql = 'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; DROP FUNCTION f(); SELECT f()'
    expect(tiers(plan(sql)).at(-1)).toBe('cautious')
    expect(
      run(['CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', 'DROP FUNCTION f()', 'SELECT f()']).tier,
    ).toBe('cautious')
  })

  it('never lets a definition stand for a dangerous built-in of the same name', () => {
    const shadow = 'CREATE FUNCTION pg_terminate_backend(pid int) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$'
    expect(run([shadow, 'SELECT pg_terminate_backend(42)']).tier).toBe('destructive')
  })
})

// documenso/documenso, packages/prisma/migrations: 20231220124343_add_cascade_delete_user_apitoken
// (Prisma re-adds a foreign key to change its action), 20240227003622_migrate_to_cuids_for_webhooks
// (primary key dropped and added in one statement), 20240222230527_change_banner_to_site_settings_model
// (DropForeignKey before DropTable).
const apiToken = `CREATE TABLE "ApiToken" (
    "id" SERIAL NOT NULL,
    "token" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "ApiToken_token_key" ON "ApiToken"("token");
CREATE INDEX "ApiToken_userId_idx" ON "ApiToken"("userId");
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;`

const cascade = `-- DropForeignKey
ALTER TABLE "ApiToken" DROP CONSTRAINT "ApiToken_userId_fkey";
-- AddForeignKey
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;`

describe('constraints, indexes and triggers a history defines', () => {
  it('takes a foreign key added back on the same columns and table for a replacement', () => {
    const p = run([apiToken, cascade])
    expect(p.tier).toBe('safe')
    expect(rules(p)).toContain('replaced-object')
    // Alone, the old definition is unknown: the drop keeps its tier.
    expect(plan(cascade).tier).toBe('destructive')
  })

  it('keeps the drop when what comes back guards something else', () => {
    const elsewhere = cascade.replace(
      'REFERENCES "User"("id") ON DELETE CASCADE',
      'REFERENCES "Team"("id") ON DELETE CASCADE',
    )
    expect(run([apiToken, elsewhere]).tier).toBe('destructive')
    const check = `ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_token_check" CHECK (length("token") > 10);`
    const weaker = `ALTER TABLE "ApiToken" DROP CONSTRAINT "ApiToken_token_check"; ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_token_check" CHECK (true);`
    expect(run([apiToken, check, weaker]).tier).toBe('destructive')
  })

  it('takes a primary key dropped and added on the same columns in one ALTER TABLE for a replacement', () => {
    const webhook = `CREATE TABLE "Webhook" ("id" SERIAL NOT NULL, "url" TEXT NOT NULL, CONSTRAINT "Webhook_pkey" PRIMARY KEY ("id"));`
    const cuids = `ALTER TABLE "Webhook" DROP CONSTRAINT "Webhook_pkey",
ALTER COLUMN "id" DROP DEFAULT,
ALTER COLUMN "id" SET DATA TYPE TEXT,
ADD CONSTRAINT "Webhook_pkey" PRIMARY KEY ("id");`
    const p = run([webhook, cuids])
    expect(rules(p)).not.toContain('drop-constraint')
    expect(p.tier).toBe('safe')
    expect(plan(cuids).tier).toBe('destructive')
  })

  it('takes a unique key replaced by a primary key on the same columns as kept (lemmy)', () => {
    // LemmyNet/lemmy, migrations/2023-10-24-030352_change_primary_keys_and_remove_some_id_columns.
    const aggregates =
      'CREATE TABLE comment_aggregates (id serial PRIMARY KEY, comment_id int UNIQUE NOT NULL, score bigint)'
    const keys =
      'ALTER TABLE comment_aggregates DROP COLUMN id, ADD PRIMARY KEY (comment_id), DROP CONSTRAINT comment_aggregates_comment_id_key'
    const p = run([aggregates, keys])
    expect(rules(p)).not.toContain('drop-constraint')
    expect(rules(p)).toContain('replaced-object')
    // What is left is the column's own loss.
    expect(p.tier).toBe('cautious')
    expect(rules(p)).toContain('drop-column')
    expect(plan(keys).tier).toBe('destructive')
  })

  it('lets a plain index go without a tier, and keeps a unique one', () => {
    expect(run([apiToken, 'DROP INDEX "ApiToken_userId_idx"']).tier).toBe('safe')
    expect(run([apiToken, 'DROP INDEX "ApiToken_token_key"']).tier).toBe('cautious')
    expect(plan('DROP INDEX "ApiToken_userId_idx"').tier).toBe('cautious')
  })

  it('counts what goes with a table dropped next as part of that drop', () => {
    const banner = `ALTER TABLE "ApiToken" DROP CONSTRAINT "ApiToken_userId_fkey";
DROP INDEX "ApiToken_token_key";
DROP TABLE "ApiToken";`
    const p = run([apiToken, banner])
    expect(tiers(p)).toEqual(['safe', 'safe', 'destructive'])
    // Alone, the constraint names its table; the index does not.
    expect(tiers(plan(banner))).toEqual(['safe', 'cautious', 'destructive'])
  })

  it('counts a foreign key whose column the script drops later as part of that column drop', () => {
    // documenso 20250522054050_add_organisations: DropForeignKey, then the column goes at the end.
    const subscription = `CREATE TABLE "Subscription" ("id" SERIAL NOT NULL, "teamId" INTEGER, CONSTRAINT "Subscription_pkey" PRIMARY KEY ("id"));
ALTER TABLE "Subscription" ADD CONSTRAINT "Subscription_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE;`
    const organisations = `ALTER TABLE "Subscription" DROP CONSTRAINT "Subscription_teamId_fkey";
UPDATE "Team" SET "name" = 'x' WHERE "id" = 0;
ALTER TABLE "Subscription" DROP COLUMN "teamId";`
    expect(tiers(run([subscription, organisations]))).toEqual(['safe', 'cautious', 'cautious'])
    // Alone: the constraint's columns are unknown.
    expect(tiers(plan(organisations))[0]).toBe('destructive')
    // The column stays: the guarantee is lost.
    expect(tiers(run([subscription, organisations.split('\n')[0] as string]))[0]).toBe('destructive')
  })

  it('is not fooled by a temporary table that shadows the old one, nor by a search_path change', () => {
    // Red team: the later DROP TABLE (or the re-added key) would reach a new temporary table, and the
    // real table would have lost its constraint.
    const shadows = [
      'ALTER TABLE t DROP CONSTRAINT c; CREATE TEMP TABLE t (id int); DROP TABLE t',
      'ALTER TABLE t DROP CONSTRAINT c; CREATE TEMP VIEW t AS SELECT 1; DROP TABLE t',
      'ALTER TABLE t DROP CONSTRAINT c; SET search_path = x; DROP TABLE t',
    ]
    for (const sql of shadows) expect(tiers(plan(sql))[0], sql).toBe('destructive')
    const readd =
      'ALTER TABLE t DROP CONSTRAINT c; CREATE TEMP TABLE t (id int); ALTER TABLE t ADD CONSTRAINT c UNIQUE (id)'
    expect(tiers(run(['CREATE TABLE t (id int, CONSTRAINT c UNIQUE (id))', readd]))[0]).toBe('destructive')
  })

  it('never lets one creation answer two drops: the second reaches an older object of that name (red team)', () => {
    // Found by comparing tiers over the regression corpus: a temporary table shadowed users, the first
    // DROP took it, and the second DROP took the real users table, both rated safe.
    for (const sql of [
      'CREATE TEMP TABLE users (id int); DROP TABLE users; DROP TABLE users',
      'CREATE TABLE x (id int); DROP TABLE x; DROP TABLE x',
      'CREATE VIEW v AS SELECT 1; DROP VIEW v; DROP VIEW v',
    ]) {
      expect(tiers(plan(sql)), sql).toEqual(['safe', 'safe', 'destructive'])
      expect(tiers(run([sql])), sql).toEqual(['safe', 'safe', 'destructive'])
    }
  })

  it('follows renames, and forgets a definition whose column was renamed', () => {
    const renamed = run([
      apiToken,
      'ALTER TABLE "ApiToken" RENAME TO "Token"',
      cascade.replaceAll('"ApiToken"', '"Token"'),
    ])
    expect(renamed.tier).toBe('safe')
    const column = run([
      apiToken,
      'ALTER TABLE "ApiToken" RENAME COLUMN "userId" TO "ownerId"',
      `ALTER TABLE "ApiToken" DROP CONSTRAINT "ApiToken_userId_fkey"; ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id");`,
    ])
    expect(column.tier).toBe('destructive')
  })

  it('takes a trigger made again the same for a replacement, and a changed one for a loss', () => {
    const audit = `CREATE TABLE orders (id int);
CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (NEW.id); RETURN NEW; END $$;
CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit();`
    const same =
      'DROP TRIGGER orders_audit ON orders; CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit()'
    const fewer =
      'DROP TRIGGER orders_audit ON orders; CREATE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit()'
    expect(tiers(run([audit, same]))[0]).toBe('safe')
    expect(tiers(run([audit, fewer]))[0]).toBe('cautious')
    // lemmy 2022-04-04-183652_update_community_aggregates_on_soft_delete: the trigger fires on more.
    const more =
      'DROP TRIGGER orders_audit ON orders; CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE OF status ON orders FOR EACH ROW EXECUTE FUNCTION audit()'
    expect(tiers(run([audit, more]))[0]).toBe('safe')
    const otherFunction = more.replace('audit()', 'noop()')
    expect(tiers(run([audit, otherFunction]))[0]).toBe('cautious')
    const narrowerUpdate = `${audit.replace('AFTER INSERT ON', 'AFTER UPDATE ON')}`
    const ofOneColumn =
      'DROP TRIGGER orders_audit ON orders; CREATE TRIGGER orders_audit AFTER UPDATE OF status ON orders FOR EACH ROW EXECUTE FUNCTION audit()'
    expect(tiers(run([narrowerUpdate, ofOneColumn]))[0]).toBe('cautious')
  })
})

// LemmyNet/lemmy, migrations/2023-08-02-174444_fix-timezones/up.sql.
describe('type changes a history knows the old type of', () => {
  const person =
    'CREATE TABLE person (id serial PRIMARY KEY, name varchar(20), published timestamp NOT NULL DEFAULT now())'

  it('lets timestamp become timestamptz when the script set the time zone to UTC', () => {
    const utc = "SET timezone = 'UTC'; ALTER TABLE person ALTER COLUMN published TYPE timestamptz USING published;"
    expect(run([person, utc]).tier).toBe('safe')
    // Postgres 12+ changes the catalog only (the values are the same bytes): no rewrite hazard.
    expect(rules(run([person, utc]))).not.toContain('alter-column-type-rewrite')
    expect(rules(run([person, 'ALTER TABLE person ALTER COLUMN published TYPE timestamptz']))).toContain(
      'alter-column-type-rewrite',
    )
    expect(run([person, 'ALTER TABLE person ALTER COLUMN published TYPE timestamptz USING published']).tier).toBe(
      'cautious',
    )
    // Anything that can run code in between may have changed the zone again.
    expect(run([person, `SET timezone = 'UTC'; SELECT 1; ${utc.slice(utc.indexOf('ALTER'))}`]).tier).toBe('cautious')
    expect(plan(utc).tier).toBe('cautious')
  })

  it('lets a wider varchar or text through, and keeps a narrower one', () => {
    expect(run([person, 'ALTER TABLE person ALTER COLUMN name TYPE varchar(255)']).tier).toBe('safe')
    expect(run([person, 'ALTER TABLE person ALTER COLUMN name TYPE text']).tier).toBe('safe')
    expect(run([person, 'ALTER TABLE person ALTER COLUMN name TYPE varchar(10)']).tier).toBe('cautious')
  })
})

// documenso/documenso, packages/prisma/migrations/20250522054050_add_organisations: a table created by
// the migration is backfilled after older tables got foreign keys to it.
describe('rows a script wrote, when older tables reference them', () => {
  it('lets a backfill of a column no cascading key references through', () => {
    const sql = `CREATE TABLE "Organisation" ("id" TEXT NOT NULL, "settingsId" TEXT, CONSTRAINT "Organisation_pkey" PRIMARY KEY ("id"));
ALTER TABLE "Subscription" ADD CONSTRAINT "Subscription_organisationId_fkey" FOREIGN KEY ("organisationId") REFERENCES "Organisation"("id") ON DELETE CASCADE ON UPDATE CASCADE;
UPDATE "Organisation" o SET "settingsId" = s."id" FROM "Settings" s WHERE s."organisationId" = o."id";`
    expect(tiers(plan(sql)).at(-1)).toBe('safe')
  })

  it('lets a backfill in a data-modifying WITH through, as at the top level', () => {
    // documenso add_organisations: WITH new_orgs AS (INSERT ...), update_teams AS (UPDATE "Team" SET "organisationId" ...)
    const sql = `ALTER TABLE "Team" ADD COLUMN "organisationId" TEXT;
WITH new_orgs AS (INSERT INTO "Organisation" ("id", "ownerUserId") SELECT 'org', u."id" FROM "User" u RETURNING "id", "ownerUserId")
UPDATE "Team" t SET "organisationId" = o."id" FROM new_orgs o WHERE t."ownerUserId" = o."ownerUserId";`
    // Alone, a child of "Team" may already hold an "organisationId" the new column merged with
    // (update-inherited-column); read from the first migration, which made "Team" and no child, safe.
    expect(tiers(plan(sql)).at(-1)).toBe('cautious')
    expect(tiers(run(['CREATE TABLE "Team" (id text, "ownerUserId" text)', sql])).at(-1)).toBe('safe')
    expect(tiers(plan(sql.replace('UPDATE "Team"', 'UPDATE ONLY "Team"'))).at(-1)).toBe('safe')
    expect(tiers(plan(sql.replace('SET "organisationId"', 'SET "name"'))).at(-1)).toBe('cautious')
  })

  it('lets a column the script added for a backfill go, and a helper function it made', () => {
    // documenso add_organisations (temp_team_id) and lemmy 2025-08-01-000014_private-community
    // (CREATE OR REPLACE FUNCTION convert_follower_state, used in a USING, then dropped).
    const temp = `ALTER TABLE "OrganisationGroup" ADD COLUMN temp_team_id INT;
UPDATE "OrganisationGroup" SET temp_team_id = 1 WHERE "id" = 'a';
ALTER TABLE "OrganisationGroup" DROP COLUMN temp_team_id;`
    expect(tiers(plan(temp.replace('UPDATE', 'UPDATE ONLY')))).toEqual(['safe', 'safe', 'safe'])
    expect(tiers(run(['CREATE TABLE "OrganisationGroup" (id text)', temp]))).toEqual(['safe', 'safe', 'safe'])
    // Alone, an inheritance child's old temp_team_id may be overwritten (update-inherited-column).
    expect(tiers(plan(temp))).toEqual(['safe', 'cautious', 'safe'])
    expect(tiers(plan(temp.replaceAll('temp_team_id', 'old_id').replace(/^ALTER TABLE[^;]*;\n/, '')))).toEqual([
      'cautious',
      'cautious',
    ])
    const helper = `CREATE OR REPLACE FUNCTION convert_follower_state (b bool) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN b THEN 'pending' ELSE 'accepted' END $$;
ALTER TABLE community_follower ALTER COLUMN pending TYPE text USING convert_follower_state (pending);
DROP FUNCTION convert_follower_state;`
    const [created, , dropped] = tiers(run([helper]))
    expect([created, dropped]).toEqual(['safe', 'safe'])
    expect(tiers(plan(helper))[2]).toBe('destructive')
    // Code that may run in between (an unknown function) could have re-pointed the name.
    expect(tiers(run([helper.replace('ALTER TABLE', 'SELECT purge(); ALTER TABLE')]))[3]).toBe('destructive')
  })

  it('never rates a function body by rows that were fresh when it was defined (red team)', () => {
    // The body runs when called: in a later migration the table holds rows.
    const define = 'CREATE TABLE t (id int); CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM t $$'
    expect(run([define, 'SELECT wipe()']).tier).toBe('destructive')
    expect(tiers(plan(`${define}; SELECT wipe()`)).at(-1)).toBe('destructive')
  })

  it('keeps a DELETE, or an UPDATE of the referenced key, that cascades into older rows', () => {
    const cases: [Tier, string][] = [
      [
        'destructive',
        'CREATE TABLE f (id int PRIMARY KEY); ALTER TABLE users ADD CONSTRAINT u FOREIGN KEY (fid) REFERENCES f (id) ON DELETE CASCADE; DELETE FROM f',
      ],
      [
        'cautious',
        'CREATE TABLE f (id int PRIMARY KEY); ALTER TABLE users ADD CONSTRAINT u FOREIGN KEY (fid) REFERENCES f (id) ON UPDATE CASCADE; UPDATE f SET id = 2 WHERE id = 1',
      ],
      // Referenced columns not named: any UPDATE may reach the key.
      [
        'destructive',
        'CREATE TABLE f (id int PRIMARY KEY, note text); ALTER TABLE users ADD CONSTRAINT u FOREIGN KEY (fid) REFERENCES f ON UPDATE SET NULL; UPDATE f SET note = 2',
      ],
      // Red team: a partition with old rows attached under the fresh referencing table, and a
      // cascade that goes on from a fresh table into an old one.
      [
        'destructive',
        'CREATE TABLE pk (id int PRIMARY KEY); CREATE TABLE fk (pid int REFERENCES pk ON DELETE CASCADE) PARTITION BY RANGE (pid); ALTER TABLE fk ATTACH PARTITION old_rows FOR VALUES FROM (0) TO (10); DELETE FROM pk',
      ],
      [
        'destructive',
        'CREATE TABLE pk (id int PRIMARY KEY); CREATE TABLE mid (id int PRIMARY KEY, pid int REFERENCES pk ON DELETE CASCADE); ALTER TABLE old ADD CONSTRAINT o FOREIGN KEY (mid) REFERENCES mid ON DELETE CASCADE; DELETE FROM pk',
      ],
      [
        'safe',
        'CREATE TABLE pk (id int PRIMARY KEY); CREATE TABLE fk (pid int REFERENCES pk ON DELETE CASCADE); DELETE FROM pk',
      ],
      // Red team: the key arrives with a new column's own REFERENCES, then the column is filled.
      [
        'destructive',
        'CREATE TABLE f (id int PRIMARY KEY); INSERT INTO f VALUES (1); ALTER TABLE users ADD COLUMN fid int REFERENCES f ON DELETE CASCADE; UPDATE users SET fid = 1; DELETE FROM f',
      ],
    ]
    for (const [tier, sql] of cases) expect(tiers(plan(sql)).at(-1), sql).toBe(tier)
  })
})

describe('red team, second pass', () => {
  it('compares names as the parser folds them: a quoted "Users" is not users', () => {
    // Postgres folds unquoted names to lower case and keeps quoted ones: "Users" and users are two
    // tables, so making or dropping one proves nothing about the other.
    // [tier of the statement at `at`, script, at]
    const cases: readonly (readonly [Tier, string, number])[] = [
      ['destructive', 'CREATE TABLE "Users" (id int); DROP TABLE users', 1],
      ['destructive', 'CREATE TABLE users (id int); DROP TABLE "Users"', 1],
      ['destructive', 'ALTER TABLE users DROP CONSTRAINT users_email_key; DROP TABLE "Users"', 0],
      ['cautious', 'DROP TRIGGER audit ON users; DROP TABLE "Users"', 0],
      ['cautious', 'CREATE INDEX "Idx" ON t (a); DROP INDEX idx', 1],
      ['destructive', 'ALTER TABLE t ADD CONSTRAINT "C" CHECK (a > 0); ALTER TABLE t DROP CONSTRAINT c', 1],
      // The same name, folded alike, still answers the drop.
      ['safe', 'CREATE TABLE "users" (id int); DROP TABLE Users', 1],
      ['safe', 'CREATE INDEX "idx" ON t (a); DROP INDEX IDX', 1],
      ['safe', 'DROP TRIGGER audit ON Users; DROP TABLE "users"', 0],
    ]
    for (const [tier, sql, at] of cases) expect(tiers(plan(sql))[at], sql).toBe(tier)
    // With a history: the definition of users_email_key is known, and "Users" is another table.
    const history = [
      'CREATE TABLE users (id int PRIMARY KEY, email text CONSTRAINT users_email_key UNIQUE)',
      'ALTER TABLE users DROP CONSTRAINT users_email_key; DROP TABLE "Users"',
    ]
    expect(tiers(run(history))[0]).toBe('destructive')
  })

  it('reaches a script-defined function only by its folded name, its schema and its arguments', () => {
    // A call goes to the script's definition only when nothing else can take it: any other name,
    // schema or overload may be a function already in the database that deletes.
    const cases: readonly (readonly [Tier, string])[] = [
      ['cautious', `CREATE FUNCTION "Purge"() RETURNS int LANGUAGE sql AS 'select 1'; SELECT purge()`],
      ['cautious', `CREATE FUNCTION other.purge() RETURNS int LANGUAGE sql AS 'select 1'; SELECT purge()`],
      ['cautious', `CREATE FUNCTION other.purge() RETURNS int LANGUAGE sql AS 'select 1'; SELECT public.purge()`],
      ['cautious', `CREATE FUNCTION purge() RETURNS int LANGUAGE sql AS 'select 1'; SELECT other.purge()`],
      // An existing purge(text) is a better match for a text argument than the script's purge(int).
      ['cautious', `CREATE FUNCTION purge(a int) RETURNS int LANGUAGE sql AS 'select 1'; SELECT purge('x'::text)`],
      ['cautious', `CREATE FUNCTION purge(a int) RETURNS int LANGUAGE sql AS 'select 1'; SELECT purge(1)`],
      // Two overloads defined: the call gets the worse body.
      [
        'destructive',
        `CREATE FUNCTION purge(a text) RETURNS void LANGUAGE sql AS 'DELETE FROM orders'; CREATE FUNCTION purge(a int) RETURNS int LANGUAGE sql AS 'select 1'; SELECT purge(1)`,
      ],
      // No argument for no parameter, and exact types named by an alias: the script's function.
      ['safe', `CREATE FUNCTION purge() RETURNS int LANGUAGE sql AS 'select 1'; SELECT purge()`],
      ['safe', `CREATE FUNCTION public.purge() RETURNS int LANGUAGE sql AS 'select 1'; SELECT purge()`],
      [
        'safe',
        `CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()`,
      ],
      [
        'cautious',
        `CREATE FUNCTION "Touch"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()`,
      ],
    ]
    for (const [tier, sql] of cases) expect(tiers(plan(sql)).at(-1), sql).toBe(tier)
    // A history read from its first migration knows every overload of a public name.
    expect(
      tiers(run([`CREATE FUNCTION purge(a int) RETURNS int LANGUAGE sql AS 'select 1'`, 'SELECT purge(1)'])),
    ).toEqual(['safe'])
    expect(
      tiers(
        run([
          `CREATE FUNCTION purge(a int) RETURNS int LANGUAGE sql AS 'select 1'`,
          `CREATE FUNCTION purge(a text) RETURNS void LANGUAGE sql AS 'DELETE FROM orders'`,
          'SELECT purge(1)',
        ]),
      ),
    ).toEqual(['destructive'])
  })

  it('does not count a table the script created as its own once an old table is attached to it', () => {
    // DROP TABLE of a partitioned table drops every partition, without CASCADE: the old rows go too
    // (checked on Postgres 17: `old` is gone after `DROP TABLE t2`).
    const attach =
      'CREATE TABLE t2 (id int) PARTITION BY RANGE (id); ALTER TABLE t2 ATTACH PARTITION old FOR VALUES FROM (0) TO (10); DROP TABLE t2'
    expect(tiers(plan(attach)).at(-1), attach).toBe('destructive')
    const alone = 'CREATE TABLE t2 (id int) PARTITION BY RANGE (id); ALTER TABLE t2 ADD COLUMN note text; DROP TABLE t2'
    expect(tiers(plan(alone)).at(-1), alone).toBe('safe')
  })

  it('forgets a column type once the name may mean another table (SET SCHEMA, a rename onto it, search_path)', () => {
    // numeric(10,2) -> bigint rounds 1.5 to 2: the known int column is no longer the one changed.
    const gate: readonly string[] = [
      'CREATE TABLE t (n int); ALTER TABLE t SET SCHEMA x; ALTER TABLE t2 RENAME TO t; ALTER TABLE t ALTER COLUMN n TYPE bigint',
      'CREATE TABLE t (n int); ALTER TABLE t SET SCHEMA x; ALTER TABLE y.t SET SCHEMA public; ALTER TABLE t ALTER COLUMN n TYPE bigint',
      'CREATE TABLE t (n int); SET search_path = x, public; ALTER TABLE t ALTER COLUMN n TYPE bigint',
      `CREATE TABLE t (n int); SELECT set_config('search_path', 'x, public', false); ALTER TABLE t ALTER COLUMN n TYPE bigint`,
    ]
    for (const sql of gate) expect(tiers(plan(sql)).at(-1), sql).toBe('cautious')
    const first = 'CREATE TABLE t (n int)'
    for (const later of [
      'ALTER TABLE t SET SCHEMA x; ALTER TABLE t2 RENAME TO t; ALTER TABLE t ALTER COLUMN n TYPE bigint',
      'ALTER TABLE t SET SCHEMA x; ALTER TABLE y.t SET SCHEMA public; ALTER TABLE t ALTER COLUMN n TYPE bigint',
      'SET search_path = x, public; ALTER TABLE t ALTER COLUMN n TYPE bigint',
    ])
      expect(tiers(run([first, later])).at(-1), later).toBe('cautious')
    // Still known: the same table back under its name, or a qualified name after a search_path change.
    const back =
      'ALTER TABLE t RENAME TO t_old; ALTER TABLE t_old RENAME TO t; ALTER TABLE t ALTER COLUMN n TYPE bigint'
    expect(tiers(run([first, back])).at(-1), back).toBe('safe')
    const qualified = 'SET search_path = x, public; ALTER TABLE public.t ALTER COLUMN n TYPE bigint'
    expect(tiers(run([first, qualified])).at(-1), qualified).toBe('safe')
  })

  it('counts SELECT ... INTO TEMP as a table that shadows the old one', () => {
    // The DROP TABLE reaches the temporary t, so the old t and its trigger stay: the trigger drop is a loss.
    const sql = 'DROP TRIGGER tr ON t; SELECT 1 AS a INTO TEMP t; DROP TABLE t'
    expect(tiers(plan(sql))[0], sql).toBe('cautious')
    const plain = 'DROP TRIGGER tr ON t; SELECT 1 AS a; DROP TABLE t'
    expect(tiers(plan(plain))[0], plain).toBe('safe')
  })

  it('takes every ancestor out of sight when old rows come in below a fresh child or partition', () => {
    // Checked on Postgres 17: DELETE FROM t empties old, a grandchild through c; TRUNCATE pt
    // empties old2, a partition of the partition pp.
    const cases: readonly (readonly [Tier, string])[] = [
      [
        'destructive',
        'CREATE TABLE t (id int); CREATE TABLE c () INHERITS (t); ALTER TABLE old INHERIT c; DELETE FROM t',
      ],
      [
        'destructive',
        'CREATE TABLE t (id int); CREATE TABLE c (id int); ALTER TABLE c INHERIT t; ALTER TABLE old INHERIT c; DELETE FROM t',
      ],
      [
        'cautious',
        'CREATE TABLE pt (id int) PARTITION BY LIST (id); CREATE TABLE pp PARTITION OF pt FOR VALUES IN (1) PARTITION BY LIST (id); ALTER TABLE pp ATTACH PARTITION old2 FOR VALUES IN (1); TRUNCATE pt',
      ],
      [
        'destructive',
        'CREATE TABLE pt (id int) PARTITION BY LIST (id); CREATE TABLE pp (id int) PARTITION BY LIST (id); ALTER TABLE pp ATTACH PARTITION old2 FOR VALUES IN (1); ALTER TABLE pt ATTACH PARTITION pp FOR VALUES IN (1); UPDATE pt SET id = 1',
      ],
      // Only the script's rows below: still its own.
      ['safe', 'CREATE TABLE t (id int); CREATE TABLE c () INHERITS (t); DELETE FROM t'],
    ]
    for (const [tier, sql] of cases) expect(tiers(plan(sql)).at(-1), sql).toBe(tier)
  })

  it('keeps an UPDATE of an added column from passing when an inheritance child may hold an old column of that name', () => {
    // Checked on Postgres 17: kid (x int) INHERITS (par) with x = 42; ALTER TABLE par ADD COLUMN x
    // merges with kid.x, and UPDATE par SET x = 0 overwrites the 42.
    const backfill = 'ALTER TABLE par ADD COLUMN x int; UPDATE par SET x = 0'
    expect(rules(plan(backfill))).toContain('update-inherited-column')
    expect(tiers(plan(backfill)).at(-1)).toBe('cautious')
    expect(tiers(run(['CREATE TABLE par (id int); CREATE TABLE kid (x int) INHERITS (par)', backfill])).at(-1)).toBe(
      'cautious',
    )
    expect(
      tiers(run(['CREATE TABLE par (id int); CREATE TABLE kid (x int); ALTER TABLE kid INHERIT par', backfill])).at(-1),
    ).toBe('cautious')
    // Proven childless: read from the first migration, ONLY on the UPDATE, or ONLY on the ADD COLUMN.
    expect(tiers(run(['CREATE TABLE par (id int)', backfill])).at(-1)).toBe('safe')
    expect(tiers(plan('ALTER TABLE par ADD COLUMN x int; UPDATE ONLY par SET x = 0')).at(-1)).toBe('safe')
    expect(tiers(plan('ALTER TABLE ONLY par ADD COLUMN x int; UPDATE par SET x = 0')).at(-1)).toBe('safe')
    // Loose files may meet a child made outside them.
    expect(tiers(run(['CREATE TABLE par (id int)', backfill], { fromStart: false })).at(-1)).toBe('cautious')
  })

  it('does not count a constraint made again NOT VALID as the same when rows were written while it was gone', () => {
    const history = 'CREATE TABLE t (id int, a int, CONSTRAINT c_check CHECK (a > 0))'
    const written =
      'ALTER TABLE t DROP CONSTRAINT c_check; INSERT INTO t VALUES (1, -1); ALTER TABLE t ADD CONSTRAINT c_check CHECK (a > 0) NOT VALID'
    expect(tiers(run([history, written]))[0], written).toBe('destructive')
    const copied = written.replace('INSERT INTO t VALUES (1, -1)', 'COPY t FROM STDIN')
    expect(tiers(run([history, copied]))[0], copied).toBe('destructive')
    // Nothing written in between, or validated when made again: the same guarantee.
    const quiet = 'ALTER TABLE t DROP CONSTRAINT c_check; ALTER TABLE t ADD CONSTRAINT c_check CHECK (a > 0) NOT VALID'
    expect(tiers(run([history, quiet]))[0], quiet).toBe('safe')
    const checked = written.replace(' NOT VALID', '')
    expect(tiers(run([history, checked]))[0], checked).toBe('safe')
  })

  it('follows a function renamed or moved, and a search_path change, before trusting a call', () => {
    const safeHelper = `CREATE FUNCTION helper() RETURNS int LANGUAGE sql AS 'select 1'`
    const purge = 'CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders $$'
    const cases: readonly (readonly [Tier, string])[] = [
      // Another function now wears the name.
      [
        'cautious',
        `${safeHelper}; ALTER FUNCTION helper() RENAME TO helper_old; ALTER FUNCTION purge_all() RENAME TO helper; SELECT helper()`,
      ],
      ['cautious', `${safeHelper}; ALTER FUNCTION x.helper() SET SCHEMA public; SELECT helper()`],
      ['cautious', `${safeHelper}; SET search_path = x, public; SELECT helper()`],
      // The body goes with the function.
      ['destructive', `${purge}; ALTER FUNCTION purge() RENAME TO p2; SELECT p2()`],
      ['cautious', `${purge}; ALTER FUNCTION purge() RENAME TO p2; SELECT purge()`],
      ['safe', `${safeHelper}; SET search_path = x, public; SELECT public.helper()`],
    ]
    for (const [tier, sql] of cases) expect(tiers(plan(sql)).at(-1), sql).toBe(tier)
    expect(
      tiers(
        run([
          safeHelper,
          'ALTER FUNCTION helper() RENAME TO h2; ALTER FUNCTION purge_all() RENAME TO helper; SELECT helper()',
        ]),
      ).at(-1),
    ).toBe('cautious')
    expect(tiers(run([safeHelper, 'SET search_path = x, public; SELECT helper()'])).at(-1)).toBe('cautious')
  })

  it('compares a trigger made again by the schema of its function too', () => {
    const history =
      'CREATE TABLE t (id int); CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION audit_fn()'
    const other = `CREATE FUNCTION x.audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
DROP TRIGGER tr ON t;
CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION x.audit_fn()`
    expect(tiers(run([history, other]))[1]).toBe('cautious')
    const same =
      'DROP TRIGGER tr ON t; CREATE TRIGGER tr AFTER INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION public.audit_fn()'
    expect(tiers(run([history, same]))[0]).toBe('safe')
  })

  it('answers DROP FUNCTION f(text) only with f(text) made again', () => {
    const cases: readonly (readonly [Tier, string])[] = [
      ['destructive', `DROP FUNCTION f(text); CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 1'`],
      ['safe', `DROP FUNCTION f(integer); CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 1'`],
      ['safe', `DROP FUNCTION f; CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 1'`],
    ]
    for (const [tier, sql] of cases) expect(tiers(plan(sql))[0], sql).toBe(tier)
    // The script made f(int), not the f(text) it drops.
    const made = `CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 1'; DROP FUNCTION f(text)`
    expect(tiers(plan(made))[1], made).toBe('destructive')
    const own = `CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 1'; DROP FUNCTION f(int)`
    expect(tiers(plan(own))[1], own).toBe('safe')
  })
})
