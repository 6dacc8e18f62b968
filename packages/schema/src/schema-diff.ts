import {
  type ClassifyOptions,
  classify,
  type Finding,
  init,
  type LockMode,
  maxTier,
  type RequiredFlag,
  requiredFlag,
  type Tier,
} from '@ddl/classifier'
import type { StableId } from '@supabase/pg-delta'
import { err, ok, type Result } from 'neverthrow'
import { type Catalog, type EngineAction, type EngineRename, objectName, planChange } from './engine.js'
import { SchemaError } from './errors.js'

/** One statement of a diff, as the classifier sees it. */
export interface DiffStatement {
  /** The statement, byte for byte the text that was classified. */
  readonly sql: string
  readonly tier: Tier
  /** The strongest lock it takes on an existing relation, or `null`. */
  readonly lock: LockMode | null
  /** False for statements Postgres refuses inside a transaction block. */
  readonly transactional: boolean
  readonly findings: readonly Finding[]
}

/** A table, column or other object that was removed while one of the same shape was added. */
export interface PossibleRename {
  /** The engine's kind: `table`, `column`, `view`, `index`, ... */
  readonly kind: string
  /** The removed object (`public.old_name`, `public.users.name`). */
  readonly from: string
  /** The added object. */
  readonly to: string
  /** `unambiguous` (one pair), `ambiguous` (several of the same shape), `nearMiss` (the shape differs a little). */
  readonly status: 'unambiguous' | 'ambiguous' | 'nearMiss'
  /** Why the engine did not take it as a rename, when it did not. */
  readonly reason?: string
  /** True when the diff's statements rename (keep the data); false when they drop and create. */
  readonly renamed: boolean
  /** The rename alternative, classified. Empty when no rename statement can be written for the kind. */
  readonly rename: readonly DiffStatement[]
  /** The drop-and-create alternative, classified: it loses what the removed object held. */
  readonly dropCreate: readonly DiffStatement[]
}

/** What turns one schema into another, every statement classified. */
export interface SchemaDiff {
  /** Dependency-ordered statements; empty when the schemas are the same. */
  readonly statements: readonly DiffStatement[]
  /** The highest tier of the statements (`safe` when there are none). */
  readonly tier: Tier
  /** What `ddl exec` or `ddl migrate` would need to run them. */
  readonly requires: RequiredFlag
  readonly renames: readonly PossibleRename[]
  /** What the engine reported (object kinds it does not model), verbatim. */
  readonly notes: readonly string[]
}

/** How possible renames are written in the diff's statements. */
export type RenameChoice = 'rename' | 'drop-create'

/** Options of {@link diffCatalogs}. */
export interface DiffOptions {
  /** `rename` (default): unambiguous renames are written as RENAME, which keeps the data; `drop-create`: as DROP + CREATE. */
  readonly renames?: RenameChoice
  /** Classifier options (policy, Postgres version). */
  readonly classify?: ClassifyOptions
}

/** Rule id of the finding added when the engine says a statement drops data the classifier did not flag. */
export const DIFF_DATA_LOSS_RULE = 'diff-drops-data'

/**
 * The statements that turn `from` into `to`, each classified by `@ddl/classifier`: tier, lock,
 * findings. Possible renames are reported with both alternatives. A statement the engine marks as
 * dropping data is never below `cautious`; a statement the classifier cannot read is `destructive`.
 * Fails with `SchemaError` (`engine`). Never throws.
 *
 * @example
 * const diff = await diffCatalogs(await readCatalog(fromUrl), await readCatalog(toUrl))
 * if (diff.isOk()) for (const s of diff.value.statements) console.log(s.tier, s.sql)
 */
export async function diffCatalogs(
  from: Catalog,
  to: Catalog,
  options: DiffOptions = {},
): Promise<Result<SchemaDiff, SchemaError>> {
  try {
    await init()
  } catch (error) {
    return err(new SchemaError('The SQL parser could not be loaded.', 'engine', { cause: error }))
  }
  let plans: ReturnType<typeof planChange>
  try {
    plans = planChange(from, to)
  } catch (error) {
    return err(
      new SchemaError(
        `The diff engine could not plan the change: ${error instanceof Error ? error.message : String(error)}`,
        'engine',
        { cause: error },
      ),
    )
  }
  const choice = options.renames ?? 'rename'
  const classifyOptions = options.classify ?? {}
  const main = choice === 'rename' ? plans.withRenames : plans.dropCreate
  const statements = classifyActions(main, classifyOptions)
  const renames = plans.renames.map((r) => possibleRename(r, plans, choice, classifyOptions))
  const tier = statements.reduce<Tier>((t, s) => maxTier(t, s.tier), 'safe')
  return ok({ statements, tier, requires: requiredFlag(tier), renames, notes: plans.diagnostics })
}

function possibleRename(
  candidate: EngineRename,
  plans: ReturnType<typeof planChange>,
  choice: RenameChoice,
  options: ClassifyOptions,
): PossibleRename {
  const from = objectName(candidate.from)
  const to = objectName(candidate.to)
  const touches = (a: EngineAction) => a.destroys.includes(from) || a.produces.includes(to)
  const applied = candidate.status === 'unambiguous'
  const engineRename = applied ? plans.withRenames.filter(touches) : []
  const written = engineRename.length > 0 ? engineRename.map((a) => a.sql) : renameSql(candidate.from, candidate.to)
  return {
    kind: candidate.kind,
    from: displayName(candidate.from),
    to: displayName(candidate.to),
    status: candidate.status,
    ...(candidate.reason !== undefined ? { reason: candidate.reason } : {}),
    renamed: applied && choice === 'rename',
    rename: classifyTexts(written, options),
    dropCreate: classifyActions(plans.dropCreate.filter(touches), options),
  }
}

/** `public.users`, `public.users.email`: how a person names the object. */
function displayName(id: StableId): string {
  const f = id as unknown as Record<string, unknown>
  const parts = [f.schema, f.table ?? f.type, f.name].filter((p): p is string => typeof p === 'string')
  return parts.length > 0 ? parts.join('.') : objectName(id)
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

/** The rename the engine did not write (ambiguous or near-miss candidates), for the kinds that have one. */
function renameSql(fromId: StableId, toId: StableId): string[] {
  const f = fromId as unknown as Record<string, string | undefined>
  const t = toId as unknown as Record<string, string | undefined>
  if (f.schema === undefined || f.name === undefined || t.name === undefined || f.schema !== t.schema) return []
  const keyword: Record<string, string> = {
    table: 'TABLE',
    view: 'VIEW',
    materializedView: 'MATERIALIZED VIEW',
    sequence: 'SEQUENCE',
    index: 'INDEX',
    type: 'TYPE',
    domain: 'DOMAIN',
  }
  if (fromId.kind === 'column' && f.table !== undefined && f.table === t.table) {
    return [`ALTER TABLE ${quote(f.schema)}.${quote(f.table)} RENAME COLUMN ${quote(f.name)} TO ${quote(t.name)}`]
  }
  const word = keyword[fromId.kind]
  if (word === undefined) return []
  return [`ALTER ${word} ${quote(f.schema)}.${quote(f.name)} RENAME TO ${quote(t.name)}`]
}

function classifyActions(actions: readonly EngineAction[], options: ClassifyOptions): DiffStatement[] {
  const texts = actions.map((a) => a.sql)
  const statements = classifyTexts(texts, options)
  // The engine's own data-loss flag can only raise a tier: map it onto the statements of its action.
  const lossy = new Set(actions.flatMap((a, i) => (a.dataLoss === 'destructive' ? [i] : [])))
  return statements.map((s) => {
    const owner = ownerOf.get(s)
    if (owner === undefined || !lossy.has(owner) || s.tier !== 'safe') return s
    return {
      ...s,
      tier: 'cautious',
      findings: [
        ...s.findings,
        {
          rule: DIFF_DATA_LOSS_RULE,
          tier: 'cautious',
          severity: 'warning',
          message: 'The diff engine marks this statement as dropping stored data.',
          hint: 'Read the statement; back up what it drops before you run it.',
        } as Finding,
      ],
    }
  })
}

/** Which action each classified statement came from (set by {@link classifyTexts}). */
const ownerOf = new WeakMap<DiffStatement, number>()

/**
 * Classifies statements as one script (so later statements see what earlier ones created), then cuts
 * the verdicts back to the statements. A text the classifier cannot read becomes `destructive`.
 */
function classifyTexts(texts: readonly string[], options: ClassifyOptions): DiffStatement[] {
  if (texts.length === 0) return []
  const pieces = texts.map((t) => t.replace(/[\s;]+$/u, ''))
  const starts: number[] = []
  let script = ''
  for (const piece of pieces) {
    starts.push(script.length)
    script += `${piece};\n`
  }
  const classified = classify(script, options)
  if (classified.isErr()) {
    return pieces.map((sql, i) => {
      const s: DiffStatement = {
        sql,
        tier: 'destructive',
        lock: null,
        transactional: true,
        findings: [
          {
            rule: 'diff-unclassified',
            tier: 'destructive',
            severity: 'error',
            message: `The classifier could not read this statement: ${classified.error.message}`,
            hint: 'Review the statement by hand before running it.',
          } as Finding,
        ],
      }
      ownerOf.set(s, i)
      return s
    })
  }
  return classified.value.statements.map((statement) => {
    const s: DiffStatement = {
      sql: statement.text,
      tier: statement.verdict.tier,
      lock: statement.verdict.lock,
      transactional: statement.verdict.transactional,
      findings: statement.verdict.findings,
    }
    let owner = 0
    for (let i = 0; i < starts.length; i++) if ((starts[i] ?? 0) <= statement.span.offset) owner = i
    ownerOf.set(s, owner)
    return s
  })
}
