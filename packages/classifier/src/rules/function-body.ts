import type { CreateFunctionStmt, DoStmt } from '@pgsql/types'
import { type FunctionReference, recordFunction, signatureOf } from '../function-refs.js'
import { absentFromHistory } from '../history.js'
import { defineRule } from '../rule.js'
import type { Tier } from '../tier.js'
import { type Fields, nameOf, stringValue, unwrap } from '../walk.js'
import { dynamicSql } from './dynamic-sql.js'
import { classifyPlpgsql, freeDollarTag } from './plpgsql.js'
import { replaceFunction } from './replace-function.js'
import { unreadableBody } from './unreadable-body.js'
import { defElem } from './util.js'

/** Languages whose bodies are code we can not read; untrusted ones can reach the OS. */
function languageOf(options: unknown, fallback: string): string {
  const lang = defElem(options, 'language')
  const value = stringValue(lang?.arg)
  return (value ?? fallback).toLowerCase()
}

function bodyOf(options: unknown): string | undefined {
  const as = defElem(options, 'as')
  if (as === undefined) return undefined
  const arg = unwrap(as.arg)
  if (arg?.[0] === 'String') return String(arg[1].sval ?? '')
  if (arg?.[0] === 'List') {
    const items = arg[1].items
    return Array.isArray(items) ? stringValue(items[0]) : undefined
  }
  return undefined
}

/** Classifies function and DO bodies: the body's tier is the statement's (it runs later, or now for DO). */
export const functionBody = defineRule<Fields>({
  id: 'function-body',
  tier: 'safe',
  kinds: ['CreateFunctionStmt', 'DoStmt'],
  check: (node, ctx) => {
    const isDo = node.funcname === undefined
    const name = isDo ? 'DO block' : `function ${nameOf((node as CreateFunctionStmt).funcname)}`
    const options = isDo ? (node as DoStmt).args : (node as CreateFunctionStmt).options
    const language = languageOf(options, isDo ? 'plpgsql' : 'sql')
    // What the body calls that nobody defined yet: a later definition may answer for it.
    const outer = ctx.script.bodyCalls
    const calls = { refs: [] as FunctionReference[], other: 'safe' as Tier }
    if (!isDo) ctx.script.bodyCalls = calls
    let tier: Tier = 'safe'
    try {
      const body = bodyOf(options)
      // A function's body runs when it is called (a definition loses nothing); a DO block's runs now.
      const embed = isDo ? ctx.nested.bind(ctx) : ctx.nestedDefinition.bind(ctx)
      if (!isDo && (node as CreateFunctionStmt).sql_body !== undefined) {
        // BEGIN ATOMIC / RETURN bodies are parsed with the statement: the engine classifies them as a
        // definition's body and records the function's tier (analyze.ts).
        return undefined
      }
      if (body === undefined) {
        ctx.report(unreadableBody, name)
        tier = 'destructive'
      } else if (language === 'sql') {
        tier = embed(body, `in ${name}`)
      } else if (language === 'plpgsql') {
        const createSql = isDo
          ? (() => {
              const tag = freeDollarTag(body)
              return `CREATE FUNCTION ddl_do_block() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}`
            })()
          : ctx.text
        tier = classifyPlpgsql(
          createSql,
          `in ${name}`,
          embed,
          (detail) =>
            isDo
              ? ctx.report(dynamicSql, detail)
              : ctx.report(
                  functionBody,
                  `${detail}: runs SQL built at run time when called; a call to it is classified destructive`,
                ),
          (detail) => ctx.report(unreadableBody, detail),
        )
      } else {
        ctx.report(unreadableBody, `${name} (LANGUAGE ${language})`)
        tier = 'destructive'
      }
    } finally {
      ctx.script.bodyCalls = outer
    }
    if (!isDo) {
      const fn = node as CreateFunctionStmt
      recordFunction(ctx.script, signatureOf(fn.funcname, fn.parameters), tier, calls)
      // Replacing a function that may exist changes what its callers (triggers, views, defaults) run.
      if (
        fn.replace === true &&
        tier !== 'safe' &&
        !absentFromHistory(ctx.script.history, 'function', nameOf(fn.funcname))
      )
        ctx.report(replaceFunction, `${nameOf(fn.funcname)} (its new body is ${tier})`)
    }
    return undefined
  },
  message: (t) => t,
  hint: '',
})
