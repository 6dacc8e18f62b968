export type { ExitCode, Io } from './io.js'
export { colorEnabled, EXIT } from './io.js'
export type { CommandContext, Register } from './program.js'
export { createProgram, run } from './program.js'
