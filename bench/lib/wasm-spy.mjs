// Preloaded (`node --import`) to learn whether a command compiles WebAssembly, and how much: each
// WebAssembly.compile / instantiate / Module call writes one line to stderr with the size of the
// bytes given (libpg-query's module is 1.7 MB; Node's own undici llhttp, which `pg` pulls in, is small).
const api = globalThis.WebAssembly
const size = (arg) => (arg instanceof ArrayBuffer || ArrayBuffer.isView(arg) ? arg.byteLength : 0)
for (const name of ['compile', 'instantiate']) {
  const original = api[name]
  api[name] = function (...args) {
    process.stderr.write(`WebAssembly.${name} called: ${size(args[0])} bytes\n`)
    return original.apply(this, args)
  }
}
api.Module = new Proxy(api.Module, {
  construct(target, args) {
    process.stderr.write(`WebAssembly.Module called: ${size(args[0])} bytes\n`)
    return Reflect.construct(target, args)
  },
})
