/** Test helper: errors that look as if thrown elsewhere (a library's frames), for the fault guards. */

/** `error` with the given stack frames (e.g. `nextWrite (file:///app/node_modules/...)`), as Node prints them. */
export const withStack = (error: Error, ...frames: Array<string>): Error =>
  Object.assign(error, { stack: [`${error.name}: ${error.message}`, ...frames.map((f) => `    at ${f}`)].join("\n") })

/** postgres.js's write on a closed socket, from its setImmediate (porsager/postgres#1208). */
export const driverWriteFault = (): Error =>
  withStack(
    new TypeError("Cannot read properties of null (reading 'write')"),
    "Immediate.nextWrite (file:///app/node_modules/postgres/src/connection.js:255:22)",
    "process.processImmediate (node:internal/timers:483:21)"
  )

/** A postgres.js connection error as the driver makes it (Errors.connection), with the given frames. */
export const connectionError = (code: string, ...frames: Array<string>): Error =>
  Object.assign(withStack(new Error(`write ${code} 127.0.0.1:5432`), ...frames), { code, errno: code })
