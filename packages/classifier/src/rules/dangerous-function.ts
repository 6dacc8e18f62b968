import type { FuncCall } from '@pgsql/types'
import { functionReferences, judgeFunction, REFERENCE_KINDS } from '../function-refs.js'
import { dangerousWhat, functionKey, PROTECTIVE_SETTINGS } from '../functions.js'
import { defineRule } from '../rule.js'
import { type Fields, lastName, nameOf, unwrap } from '../walk.js'

function settingName(call: FuncCall): string | undefined {
  const first = unwrap(call.args?.[0])
  if (first?.[0] !== 'A_Const') return undefined
  const sval = first[1].sval as { sval?: string } | undefined
  return sval?.sval?.toLowerCase()
}

/**
 * Built-ins that kill sessions, delete large objects, reach server files or other servers, or run SQL
 * text: called, or made callable under another name (an operator, a cast, an aggregate, a type's I/O,
 * ...), which is as dangerous as calling them. Also `set_config` of a setting that guards data.
 */
export const dangerousFunction = defineRule<Fields>({
  id: 'dangerous-function',
  tier: 'destructive',
  kinds: REFERENCE_KINDS,
  check: (node, ctx) => {
    const found: string[] = []
    for (const ref of functionReferences(ctx.nodeType, node)) {
      const judged = judgeFunction(ref, ctx)
      if (judged.kind === 'dangerous') found.push(ref.via === 'call' ? ref.name : `${ref.name} (through ${ref.via})`)
    }
    if (ctx.nodeType === 'FuncCall' && functionKey(lastName(node.funcname)) === 'set_config') {
      const setting = settingName(node as FuncCall)
      // A setting we cannot read, or one that guards data, makes set_config dangerous.
      if (setting === undefined || PROTECTIVE_SETTINGS.has(setting))
        found.push(`${nameOf(node.funcname)}(${setting ?? '?'})`)
    }
    return found
  },
  message: (t) => {
    const name = t.split(/[ (]/)[0] ?? t
    const parts = name.split('.')
    const key = functionKey(parts.at(-1) ?? name)
    const schema = parts.length > 1 ? functionKey(parts.slice(0, -1).join('.')) : undefined
    if (key === 'set_config')
      return `${t} changes a setting that protects data (read-only mode, triggers, role, timeouts).`
    return `${t} ${dangerousWhat(key, schema)}.`
  },
  hint: 'Do this by hand as an operator, outside safe-ddl, after checking what it touches.',
})
