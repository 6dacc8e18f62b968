/**
 * The Postgres parser (libpg-query's WebAssembly build), driven directly.
 *
 * We instantiate the emscripten module ourselves instead of using libpg-query's singleton so that a
 * trap inside the C code (stack exhaustion on very deep expressions, which also leaks and corrupts
 * the module's memory) never poisons later calls: the trapped instance is thrown away and a spare,
 * instantiated in advance from the same compiled module, takes its place synchronously.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ParseResult } from '@pgsql/types'

interface EmscriptenModule {
  _malloc(size: number): number
  _free(ptr: number): void
  _wasm_parse_query_raw(ptr: number): number
  _wasm_free_parse_result(ptr: number): void
  _wasm_parse_plpgsql(ptr: number): number
  _wasm_free_string(ptr: number): void
  lengthBytesUTF8(text: string): number
  stringToUTF8(text: string, ptr: number, max: number): void
  UTF8ToString(ptr: number): string
  getValue(ptr: number, type: 'i32'): number
  /** The module's memory; a new view after the memory grows, so read it after each allocation. */
  readonly HEAPU8: Uint8Array
}

/** The few WebAssembly calls we use (Node has them; @types/node 20 does not declare them). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>
  instantiate(module: WasmModule, imports: object): Promise<WasmInstance>
}
type WasmModule = { readonly __brand: 'WasmModule' }
type WasmInstance = { readonly __brand: 'WasmInstance' }
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

type Factory = (options: {
  instantiateWasm: (imports: object, done: (instance: WasmInstance) => void) => object
}) => Promise<EmscriptenModule>

const require = createRequire(import.meta.url)

let compiled: Promise<WasmModule> | undefined
let active: EmscriptenModule | undefined
let spare: EmscriptenModule | undefined
let spareLoading: Promise<void> | undefined
/** True once {@link loadParser} has resolved: from then on, a missing instance means one is being replaced. */
let everLoaded = false

function compile(): Promise<WasmModule> {
  if (compiled === undefined)
    compiled = wasm.compile(readFileSync(require.resolve('libpg-query/wasm/libpg-query.wasm')))
  return compiled
}

async function instantiate(): Promise<EmscriptenModule> {
  const module = await compile()
  const factory = require('libpg-query/wasm/libpg-query.js') as Factory
  return factory({
    instantiateWasm: (imports, done) => {
      void wasm.instantiate(module, imports).then((instance) => done(instance))
      return {}
    },
  })
}

function refillSpare(): void {
  if (spare !== undefined || spareLoading !== undefined) return
  spareLoading = instantiate().then(
    (m) => {
      spareLoading = undefined
      // A crash that found no spare left no parser: the new instance takes over, and another loads.
      if (active === undefined && everLoaded) {
        active = m
        refillSpare()
      } else spare = m
    },
    () => {
      spareLoading = undefined
    },
  )
}

/** Loads the parser once; later calls return at once. Never rejects twice for one cause. */
export async function loadParser(): Promise<void> {
  if (active === undefined) active = await instantiate()
  everLoaded = true
  refillSpare()
  await spareLoading
}

/** True once {@link loadParser} has resolved. */
export function parserReady(): boolean {
  return active !== undefined
}

/** True while a crashed instance is being replaced (no spare was left): classify must wait. */
export function parserRecovering(): boolean {
  return active === undefined && everLoaded
}

/** Replaces a trapped instance with the spare (if one is ready) and starts loading another. */
function discardActive(): void {
  active = spare
  spare = undefined
  refillSpare()
}

export type RawParse =
  | { readonly ok: true; readonly tree: ParseResult }
  | {
      readonly ok: false
      /** The parser's message, or why it could not run. */
      readonly message: string
      /** 0-based UTF-8 byte offset of the error, when the grammar reported one. */
      readonly cursor: number | undefined
      /** True when the parser itself failed (trap, no instance), not the grammar. */
      readonly crashed: boolean
    }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * Copies `text` into the module's memory as a NUL-terminated UTF-8 string for `fn`. Well-formed text
 * (all classify() passes on) is measured and encoded natively, byte for byte what emscripten's
 * JavaScript loops (`lengthBytesUTF8`, `stringToUTF8`) write, at a fraction of their cost; anything
 * else still goes through them.
 */
function withCString<T>(m: EmscriptenModule, text: string, fn: (ptr: number) => T): T {
  const native = text.isWellFormed()
  const size = (native ? Buffer.byteLength(text, 'utf8') : m.lengthBytesUTF8(text)) + 1
  const ptr = m._malloc(size)
  if (ptr === 0) throw new RangeError('parser out of memory')
  try {
    if (native) {
      const heap = m.HEAPU8
      encoder.encodeInto(text, heap.subarray(ptr, ptr + size - 1))
      heap[ptr + size - 1] = 0
    } else {
      m.stringToUTF8(text, ptr, size)
    }
    return fn(ptr)
  } finally {
    m._free(ptr)
  }
}

/** A NUL-terminated UTF-8 string of the module's memory: the terminator found natively, then decoded. */
function readCString(m: EmscriptenModule, ptr: number): string {
  const heap = m.HEAPU8
  const end = heap.indexOf(0, ptr)
  return end === -1 ? m.UTF8ToString(ptr) : decoder.decode(heap.subarray(ptr, end))
}

function crashed(message: string): RawParse {
  return { ok: false, message, cursor: undefined, crashed: true }
}

/**
 * Parses SQL with the Postgres grammar. Never throws: a grammar error, a trap in the WebAssembly
 * code or a missing instance all come back as `ok: false` (a trap also retires the instance).
 */
export function parseRaw(sql: string): RawParse {
  const m = active
  if (m === undefined) return crashed('the parser is not available (not initialised, or recovering from a crash)')
  try {
    return withCString(m, sql, (queryPtr) => {
      const resultPtr = m._wasm_parse_query_raw(queryPtr)
      if (resultPtr === 0) return crashed('the parser ran out of memory')
      try {
        const treePtr = m.getValue(resultPtr, 'i32')
        const errorPtr = m.getValue(resultPtr + 8, 'i32')
        if (errorPtr !== 0) {
          const messagePtr = m.getValue(errorPtr, 'i32')
          const cursorPos = m.getValue(errorPtr + 16, 'i32')
          const message = messagePtr !== 0 ? m.UTF8ToString(messagePtr) : 'syntax error'
          return { ok: false, message, cursor: cursorPos > 0 ? cursorPos - 1 : undefined, crashed: false } as const
        }
        if (treePtr === 0) return crashed('the parser returned no tree')
        return { ok: true, tree: JSON.parse(readCString(m, treePtr)) as ParseResult } as const
      } finally {
        m._wasm_free_parse_result(resultPtr)
      }
    })
  } catch (error) {
    // A trap (stack exhaustion, out-of-bounds access) or a JSON.parse stack overflow on a
    // pathological tree. The instance may be corrupt: never use it again.
    discardActive()
    return crashed(`the parser failed on this input (${error instanceof Error ? error.message : String(error)})`)
  }
}

export type RawPlpgsql =
  | { readonly ok: true; readonly functions: readonly unknown[] }
  | { readonly ok: false; readonly message: string }

/** Parses a `CREATE FUNCTION ... LANGUAGE plpgsql` statement's body. Never throws. */
export function parsePlpgsqlRaw(createFunctionSql: string): RawPlpgsql {
  const m = active
  if (m === undefined) return { ok: false, message: 'the parser is not available' }
  try {
    return withCString(m, createFunctionSql, (queryPtr) => {
      const resultPtr = m._wasm_parse_plpgsql(queryPtr)
      if (resultPtr === 0) return { ok: false, message: 'the PL/pgSQL parser ran out of memory' } as const
      try {
        const text = readCString(m, resultPtr)
        if (!text.startsWith('{')) return { ok: false, message: text } as const
        const parsed = JSON.parse(text) as { plpgsql_funcs?: unknown[] }
        return { ok: true, functions: parsed.plpgsql_funcs ?? [] } as const
      } finally {
        m._wasm_free_string(resultPtr)
      }
    })
  } catch (error) {
    discardActive()
    return {
      ok: false,
      message: `the PL/pgSQL parser failed (${error instanceof Error ? error.message : String(error)})`,
    }
  }
}
