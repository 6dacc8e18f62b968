import { newHazardState } from './hazard-state.js'
import type { ScriptState } from './rule.js'

/** A fresh {@link ScriptState} for a new script: nothing defined yet. */
export function newScriptState(): ScriptState {
  return {
    functions: new Map(),
    prepared: new Map(),
    hazards: newHazardState(),
    operators: new Map(),
    reads: new Map(),
    writes: new Map(),
    types: new Map(),
    eventTrigger: undefined,
  }
}
