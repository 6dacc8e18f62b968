/**
 * The migration history carried from file to file, the three misses found on real migration
 * histories (FK scan with a default, type changes whose old type an earlier migration declared,
 * identifiers over 63 bytes), and the Supabase profile's lints. Fixtures are excerpts of real
 * migrations, named where they come from.
 */
import {
  type ClassifyOptions,
  classify,
  historyFindings,
  init,
  learnHistory,
  type MigrationHistory,
  newMigrationHistory,
  type Plan,
  profileOptions,
  SUPABASE_KNOWN_FUNCTIONS,
} from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await init()
})

function plan(sql: string, options: ClassifyOptions = {}): Plan {
  return classify(sql, options)._unsafeUnwrap()
}

function rules(p: Plan): string[] {
  return p.statements.flatMap((s) => s.verdict.findings.map((f) => f.rule))
}

function findings(p: Plan, rule: string) {
  return p.statements.flatMap((s) => s.verdict.findings.filter((f) => f.rule === rule))
}

const supabase = profileOptions('supabase')

describe('the migration history', () => {
  // documenso/documenso, packages/prisma/migrations/20250318072444_add_document_folders and
  // 20250324135010_model_folder_update_id_type_and_add_pinned_property (Prisma).
  const first = `CREATE TABLE "Document" ("id" SERIAL NOT NULL, "title" TEXT NOT NULL);
ALTER TABLE "Document" ADD COLUMN     "folderId" INTEGER;`
  const later = `-- AlterTable
ALTER TABLE "Document" ALTER COLUMN "folderId" SET DATA TYPE TEXT;`

  it('reports a type change as a rewrite when an earlier migration declared the old type', () => {
    const history = newMigrationHistory()
    plan(first, { history })
    const p = plan(later, { history })
    const [finding] = findings(p, 'alter-column-type-narrowing')
    expect(finding?.message).toMatchInlineSnapshot(
      `"ALTER COLUMN Document.folderId TYPE text changes it from integer (declared by an earlier statement or migration): not a widening, so Postgres checks or converts every value and rewrites the table and its indexes under an ACCESS EXCLUSIVE lock; reads and writes wait until it ends."`,
    )
    expect(rules(p)).not.toContain('alter-column-type-unknown-old-type')
  })

  it('reports an unknown old type as a possible rewrite, not as a widening', () => {
    const p = plan(later)
    expect(rules(p)).toContain('alter-column-type-unknown-old-type')
    expect(rules(p)).not.toContain('alter-column-type-narrowing')
  })

  it('says nothing more of a real widening whose old type it knows', () => {
    const history = newMigrationHistory()
    plan('CREATE TABLE users (name varchar(100), price numeric(10,2))', { history })
    const p = plan(
      'ALTER TABLE users ALTER COLUMN name TYPE varchar(200); ALTER TABLE users ALTER COLUMN price TYPE numeric(12,2)',
      { history },
    )
    expect(rules(p)).not.toContain('alter-column-type-narrowing')
    expect(rules(p)).not.toContain('alter-column-type-unknown-old-type')
    expect(rules(p)).not.toContain('alter-column-type-rewrite')
  })

  it('flags varchar(100) to varchar(10) from an earlier migration, and follows renames', () => {
    const history = newMigrationHistory()
    plan('CREATE TABLE people (full_name varchar(100))', { history })
    plan('ALTER TABLE people RENAME TO users; ALTER TABLE users RENAME COLUMN full_name TO name', { history })
    expect(rules(plan('ALTER TABLE users ALTER COLUMN name TYPE varchar(10)', { history }))).toContain(
      'alter-column-type-narrowing',
    )
  })

  it('lowers a type change only when the old type shows every value survives, and keeps its rewrite hazard', () => {
    // integer to text: every integer has an exact text form. Alone, the old type is unknown: cautious.
    const history = newMigrationHistory()
    plan(first, { history })
    expect(plan(later).tier).toBe('cautious')
    const known = plan(later, { history })
    expect(known.tier).toBe('safe')
    expect(rules(known)).toContain('alter-column-type-narrowing')
    // A narrowing, or a USING expression, keeps the tier whatever the history knows.
    const narrowing = newMigrationHistory()
    plan('CREATE TABLE people (name varchar(100), age int)', { history: narrowing })
    expect(plan('ALTER TABLE people ALTER COLUMN name TYPE varchar(10)', { history: narrowing }).tier).toBe('cautious')
    expect(plan('ALTER TABLE people ALTER COLUMN age TYPE bigint USING age * 2', { history: narrowing }).tier).toBe(
      'cautious',
    )
    expect(plan('ALTER TABLE people ALTER COLUMN age TYPE smallint', { history: narrowing }).tier).toBe('cautious')
  })

  it('carries nothing between calls without a history', () => {
    plan('CREATE TABLE users (name varchar(100))')
    expect(rules(plan('ALTER TABLE users ALTER COLUMN name TYPE varchar(10)'))).not.toContain(
      'alter-column-type-narrowing',
    )
  })
})

describe('add-foreign-key-column-with-default', () => {
  it('flags ADD COLUMN ... REFERENCES with a DEFAULT on an existing table', () => {
    const p = plan(
      'ALTER TABLE comment ADD COLUMN language_id integer NOT NULL DEFAULT 0 REFERENCES language ON UPDATE CASCADE',
    )
    const [finding] = findings(p, 'add-foreign-key-column-with-default')
    expect(finding?.message).toMatchInlineSnapshot(
      `"ADD COLUMN language_id ... REFERENCES language with a DEFAULT checks every row of comment against language while ADD COLUMN holds an ACCESS EXCLUSIVE lock on comment and a SHARE ROW EXCLUSIVE lock on language: reads and writes of comment, and writes of language, wait until the check ends (without a default the new column is all NULL and Postgres skips the check; DEFAULT NULL still counts as a default)."`,
    )
    expect(p.tier).toBe(plan('ALTER TABLE comment ADD COLUMN language_id integer NOT NULL DEFAULT 0').tier)
    expect(p.statements[0]?.verdict.scan).toBe(true)
  })

  it('leaves ADD COLUMN ... REFERENCES without a default alone (Postgres skips the scan)', () => {
    // LemmyNet/lemmy, migrations/2021-03-04-040229_clean_icon_urls-style ADD COLUMN ... REFERENCES (Diesel).
    expect(
      rules(plan('ALTER TABLE post ADD COLUMN language_id integer REFERENCES language ON UPDATE CASCADE')),
    ).not.toContain('add-foreign-key-column-with-default')
  })

  it('leaves a table created in the same script alone', () => {
    expect(
      rules(plan('CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN p int DEFAULT 1 REFERENCES p(id)')),
    ).not.toContain('add-foreign-key-column-with-default')
  })
})

describe('identifier-too-long', () => {
  const long = (suffix: string) => `idx_community_aggregates_users_active_monthly_and_published_${suffix}`

  it('names the truncated identifier and the collision within the script', () => {
    const p = plan(`CREATE INDEX ${long('desc_a')} ON t (a); CREATE INDEX ${long('desc_b')} ON t (b)`)
    const found = findings(p, 'identifier-too-long')
    expect(found).toHaveLength(2)
    expect(found[0]?.message).toContain('names it idx_community_aggregates_users_active_monthly_and_published_des,')
    expect(found[0]?.message).not.toContain('collides')
    expect(found[1]?.message).toContain(`It collides with ${long('desc_a')}`)
  })

  it('counts bytes, not characters, and cuts at a character boundary', () => {
    const name = `"${'é'.repeat(32)}"`
    const [finding] = findings(plan(`CREATE TABLE ${name} (id int)`), 'identifier-too-long')
    expect(finding?.message).toContain('is 64 bytes')
    expect(finding?.message).toContain(`names it ${'é'.repeat(31)},`)
  })

  it('leaves a 63-byte name alone', () => {
    expect(rules(plan(`CREATE TABLE ${'a'.repeat(63)} (id int)`))).not.toContain('identifier-too-long')
  })
})

describe('the Supabase profile', () => {
  // mckaywrigley/chatbot-ui, supabase/migrations/20240108234541_add_profiles.sql.
  const profiles = `CREATE TABLE IF NOT EXISTS profiles (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
    user_id UUID NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
    bio TEXT NOT NULL CHECK (char_length(bio) <= 1500)
);
CREATE INDEX idx_profiles_user_id ON profiles (user_id);
ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Allow full access to own profiles"
    ON profiles
    USING (user_id = auth.uid())
    WITH CHECK (user_id = auth.uid());`

  it('exports its known read-only functions through ClassifyOptions.knownFunctions', () => {
    expect(supabase.knownFunctions).toBe(SUPABASE_KNOWN_FUNCTIONS)
    expect([...supabase.knownFunctions].sort()).toEqual([
      'auth.email',
      'auth.jwt',
      'auth.role',
      'auth.uid',
      'storage.extension',
      'storage.filename',
      'storage.foldername',
    ])
  })

  it('finds nothing to lint in a table with RLS and an owner policy', () => {
    const p = plan(profiles, supabase)
    expect(rules(p).filter((r) => r.startsWith('supabase-'))).toEqual([])
  })

  it('flags a table in public that never gets RLS, on its CREATE TABLE, and names its policies', () => {
    const sql = profiles.replace('ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;', '')
    const p = plan(sql, supabase)
    expect(p.statements[0]?.verdict.findings.map((f) => f.rule)).toContain('supabase-rls-disabled-in-public')
    expect(findings(p, 'supabase-rls-disabled-in-public')[0]?.message).toMatchInlineSnapshot(
      `"Table profiles is in an exposed schema and row level security is never enabled on it: anyone with the anon key can read and write every row through the API. It has policies (Allow full access to own profiles), which do nothing until RLS is on."`,
    )
    expect(p.tier).toBe(plan(sql).tier)
  })

  it('is silent without the profile, and for tables outside exposed schemas', () => {
    expect(rules(plan('CREATE TABLE notes (id int)'))).not.toContain('supabase-rls-disabled-in-public')
    expect(rules(plan('CREATE TABLE private.notes (id int)', supabase))).not.toContain(
      'supabase-rls-disabled-in-public',
    )
  })

  it('decides RLS at the end of a run across migrations', () => {
    const history = newMigrationHistory()
    plan('CREATE TABLE notes (id int); CREATE TABLE tags (id int)', { ...supabase, history })
    plan('ALTER TABLE notes ENABLE ROW LEVEL SECURITY', { ...supabase, history })
    const late = historyFindings(history, supabase)
    expect(late.map((l) => [l.finding.rule, l.origin])).toEqual([
      ['supabase-rls-disabled-in-public', { script: 0, statement: 1 }],
    ])
    expect(historyFindings(history, {})).toEqual([])
    expect(
      historyFindings(history, { ...supabase, policy: { rules: { 'supabase-rls-disabled-in-public': 'off' } } }),
    ).toEqual([])
  })

  it('flags USING (true) and WITH CHECK (true) write policies for anon and authenticated', () => {
    const p = plan(
      `CREATE POLICY "anyone can update" ON notes FOR UPDATE TO anon USING (true);
CREATE POLICY "insert" ON notes FOR INSERT TO authenticated WITH CHECK (1 = 1);
CREATE POLICY "all" ON notes USING (true)`,
      supabase,
    )
    expect(findings(p, 'supabase-policy-always-true')).toHaveLength(3)
    expect(findings(p, 'supabase-policy-always-true')[0]?.message).toMatchInlineSnapshot(
      `"Policy anyone can update on notes is USING (true) for UPDATE to anon: every API caller with that role can change or delete every row, as if row level security were off."`,
    )
  })

  it('leaves read policies, owner checks and service_role policies alone', () => {
    // mckaywrigley/chatbot-ui, supabase/migrations/20240108234541_add_profiles.sql (storage policies).
    const p = plan(
      `CREATE POLICY "Allow public read access on profile images"
    ON storage.objects FOR SELECT
    USING (bucket_id = 'profile_images');
CREATE POLICY "Allow authenticated update access to own profile images"
    ON storage.objects FOR UPDATE TO authenticated
    USING (bucket_id = 'profile_images' AND (storage.foldername(name))[1] = auth.uid()::text);
CREATE POLICY "read" ON notes FOR SELECT TO anon USING (true);
CREATE POLICY "service" ON notes FOR ALL TO service_role USING (true)`,
      supabase,
    )
    expect(rules(p)).not.toContain('supabase-policy-always-true')
  })

  it('flags a SECURITY DEFINER function in public without a fixed search_path, executable by anon', () => {
    const sql = `CREATE FUNCTION public.get_secret(id uuid) RETURNS text LANGUAGE sql SECURITY DEFINER AS $$ SELECT 'x' $$`
    const p = plan(sql, supabase)
    expect(rules(p)).toEqual(
      expect.arrayContaining(['supabase-function-search-path', 'supabase-anon-security-definer']),
    )
    expect(p.tier).toBe(plan(sql).tier)
  })

  it('leaves a definer function with search_path set and EXECUTE revoked from anon and public', () => {
    const p = plan(
      `CREATE FUNCTION public.get_secret(id uuid) RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$ SELECT 'x' $$;
REVOKE EXECUTE ON FUNCTION public.get_secret(uuid) FROM public, anon`,
      supabase,
    )
    expect(rules(p)).not.toContain('supabase-function-search-path')
    expect(rules(p)).not.toContain('supabase-anon-security-definer')
  })

  it('still flags anon execution when EXECUTE is revoked from public only', () => {
    const p = plan(
      `CREATE FUNCTION public.f() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$ SELECT 1 $$;
REVOKE EXECUTE ON FUNCTION public.f() FROM public`,
      supabase,
    )
    expect(rules(p)).toContain('supabase-anon-security-definer')
  })

  it('leaves trigger functions alone for anon execution (no API can call them)', () => {
    // mckaywrigley/chatbot-ui, supabase/migrations/20240108234541_add_profiles.sql.
    const p = plan(
      `CREATE OR REPLACE FUNCTION create_profile_and_workspace()
RETURNS TRIGGER
security definer set search_path = public
AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql`,
      supabase,
    )
    expect(rules(p)).not.toContain('supabase-anon-security-definer')
    expect(rules(p)).not.toContain('supabase-function-search-path')
  })

  it('flags a view over an RLS table unless it is security_invoker', () => {
    const base = 'CREATE TABLE notes (id int); ALTER TABLE notes ENABLE ROW LEVEL SECURITY'
    expect(rules(plan(`${base}; CREATE VIEW note_ids AS SELECT id FROM notes`, supabase))).toContain(
      'supabase-view-bypasses-rls',
    )
    expect(
      rules(plan(`${base}; CREATE VIEW note_ids WITH (security_invoker = true) AS SELECT id FROM notes`, supabase)),
    ).not.toContain('supabase-view-bypasses-rls')
    expect(rules(plan('CREATE TABLE t (id int); CREATE VIEW v AS SELECT id FROM t', supabase))).not.toContain(
      'supabase-view-bypasses-rls',
    )
  })

  it('never changes a tier: every lint is a hazard finding', () => {
    const sql = `CREATE TABLE notes (id int);
CREATE POLICY "u" ON notes FOR UPDATE TO anon USING (true);
CREATE FUNCTION public.f() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$`
    const on = plan(sql, supabase)
    const off = plan(sql)
    expect(on.statements.map((s) => s.verdict.tier)).toEqual(off.statements.map((s) => s.verdict.tier))
    for (const f of on.statements.flatMap((s) => s.verdict.findings)) {
      if (f.rule.startsWith('supabase-')) expect(f.tier).toBe('safe')
    }
  })
})

describe('learnHistory', () => {
  // Every kind of statement the history learns from, a script the grammar rejects in part (its cuts
  // and statement numbers come from the pieces), and one classify() refuses (a NUL byte: no script number).
  const scripts = [
    `CREATE TABLE public.profiles (id uuid PRIMARY KEY, name varchar(100), bio text);
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE FUNCTION public.secret() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;`,
    'ALTER TABLE profiles ADD COLUMN age int; ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;',
    'SELEKT 1; ALTER TABLE profiles RENAME COLUMN bio TO about; CREATE TABLE notes (id int, body varchar(20));',
    'bad\u0000input',
    `CREATE POLICY "own" ON profiles FOR SELECT USING (true);
REVOKE EXECUTE ON FUNCTION public.secret() FROM anon, public;
ALTER TABLE notes RENAME TO memos; DROP TYPE mood;`,
    `ALTER TABLE memos ALTER COLUMN body TYPE varchar(10);
ALTER TABLE profiles ALTER COLUMN name TYPE varchar(50); ALTER TABLE profiles DISABLE ROW LEVEL SECURITY;`,
  ]
  const options = { ...supabase, profile: 'supabase' as const, keepAst: false }
  const snapshot = (h: MigrationHistory) =>
    JSON.stringify(h, (_key, value: unknown) =>
      value instanceof Map ? [...value] : value instanceof Set ? [...value] : value,
    )

  it('leaves the history classify() leaves, so the scripts after it are classified the same', () => {
    const all = newMigrationHistory()
    const classified = scripts.map((sql) => classify(sql, { ...options, history: all }))
    for (let k = 0; k <= scripts.length; k++) {
      const learned = newMigrationHistory()
      for (const sql of scripts.slice(0, k)) learnHistory(sql, learned, options)
      const rest = scripts.slice(k).map((sql) => classify(sql, { ...options, history: learned }))
      expect(rest).toEqual(classified.slice(k))
      expect(snapshot(learned)).toBe(snapshot(all))
    }
    expect(all.scripts).toBe(scripts.length - 1)
    expect(findings(classified[5]?._unsafeUnwrap() as Plan, 'alter-column-type-narrowing')).toHaveLength(2)
    expect(historyFindings(all, { profile: 'supabase' }).map((f) => f.finding.rule)).toEqual([
      'supabase-rls-disabled-in-public',
      'supabase-rls-disabled-in-public',
    ])
  })

  it('fails where classify() fails, and learns nothing then', () => {
    const history = newMigrationHistory()
    const learned = learnHistory('SELECT 1\u0000', history)
    expect(learned._unsafeUnwrapErr().kind).toBe('InputError')
    expect(history.scripts).toBe(0)
  })
})
