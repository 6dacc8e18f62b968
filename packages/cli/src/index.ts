export type { Io, ExitCode } from './io.js'
export { EXIT, colorEnabled } from './io.js'
export type { CommandContext, Register } from './program.js'
export { createProgram, run } from './program.js'
