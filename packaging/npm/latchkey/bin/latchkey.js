#!/usr/bin/env node
'use strict'
// `npx latchkey ARGS`: runs this platform's binary with the same arguments, passes signals on
// (so a test runner that stops `npx latchkey serve` with SIGTERM stops the server), and exits
// with its status.

const { spawn } = require('node:child_process')
const { binaryPath } = require('../index.js')

let exe
try {
  exe = binaryPath()
} catch (e) {
  console.error(e.message)
  process.exit(1)
}
const child = spawn(exe, process.argv.slice(2), { stdio: 'inherit' })
const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'].filter((s) => process.platform !== 'win32' || s === 'SIGINT')
for (const sig of forwarded) {
  process.on(sig, () => {
    if (child.exitCode === null) child.kill(sig)
  })
}
child.on('error', (e) => {
  console.error(`latchkey: cannot run ${exe}: ${e.message}`)
  process.exit(1)
})
child.on('exit', (code, signal) => {
  if (signal) {
    // Leave the way the binary did, as shells report it.
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
    return
  }
  process.exit(code ?? 1)
})
