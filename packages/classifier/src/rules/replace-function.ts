import { defineRule } from '../rule.js'

/** CREATE OR REPLACE of a function whose new body is not safe: whatever already calls it runs the new body. */
export const replaceFunction = defineRule({
  id: 'replace-function',
  tier: 'cautious',
  kinds: [],
  check: () => undefined,
  message: (t) =>
    `CREATE OR REPLACE FUNCTION ${t}: triggers, views, defaults and callers that already use it run the new body from now on.`,
  hint: 'Read the body’s notes; if callers must not change behaviour, create the function under a new name and switch callers over.',
})
