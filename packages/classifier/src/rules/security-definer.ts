import { defineRule } from '../rule.js'
import { type Fields, nameOf } from '../walk.js'
import { defElem, defElemTruthy } from './util.js'

/** SECURITY DEFINER functions run with their owner's privileges for every caller. */
export const securityDefiner = defineRule<Fields>({
  id: 'security-definer',
  tier: 'cautious',
  kinds: ['CreateFunctionStmt', 'AlterFunctionStmt'],
  check: (s) => {
    const options = s.options ?? s.actions
    if (!defElemTruthy(defElem(options, 'security'))) return undefined
    const name = s.funcname ?? (s.func as { objname?: unknown } | undefined)?.objname
    return nameOf(name)
  },
  message: (t) => `${t} runs with its owner’s privileges for every caller (SECURITY DEFINER).`,
  hint: 'Use SECURITY INVOKER unless the function must escalate; if it must, SET search_path on it and grant EXECUTE narrowly.',
})
