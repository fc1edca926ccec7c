#!/usr/bin/env node
// Packs the npm packages from binaries that are already built:
//
//   node packaging/npm/build.mjs --out dist/npm \
//     --binary x86_64-unknown-linux-musl=target/static/latchkey \
//     --binary aarch64-unknown-linux-musl=target/aarch64-unknown-linux-musl/release/latchkey
//
// For each binary, a package `@latchkey/cli-<platform>-<arch>` with `os` and `cpu` set, so npm
// installs only the one that matches (the way esbuild, Biome and other native tools ship);
// then the `latchkey` package itself, whose optional dependencies name them all and whose
// `bin/latchkey.js` runs the matching binary. Every package gets the version of Cargo.toml.
// Prints the tarballs (`npm pack`), which a release publishes with `npm publish <tarball>`.

import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..', '..')

/** Rust target triple -> Node.js `process.platform` and `process.arch`. */
export const PLATFORMS = {
  'x86_64-unknown-linux-musl': ['linux', 'x64'],
  'aarch64-unknown-linux-musl': ['linux', 'arm64'],
  'x86_64-apple-darwin': ['darwin', 'x64'],
  'aarch64-apple-darwin': ['darwin', 'arm64'],
  'x86_64-pc-windows-gnu': ['win32', 'x64'],
  'x86_64-pc-windows-msvc': ['win32', 'x64'],
}

function cargoVersion() {
  const toml = readFileSync(path.join(repo, 'Cargo.toml'), 'utf8')
  const m = /\[package\][^[]*?^version\s*=\s*"([^"]+)"/ms.exec(toml)
  if (!m) throw new Error('no version in Cargo.toml [package]')
  return m[1]
}

function pack(dir, out) {
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()
  return path.join(out, name)
}

const { values } = parseArgs({
  options: { out: { type: 'string' }, binary: { type: 'string', multiple: true, default: [] } },
})
if (!values.out || values.binary.length === 0) {
  console.error('usage: build.mjs --out DIR --binary TARGET=PATH [--binary TARGET=PATH ...]')
  process.exit(2)
}
const out = path.resolve(values.out)
mkdirSync(out, { recursive: true })
const version = cargoVersion()
const work = mkdtempSync(path.join(tmpdir(), 'latchkey-npm-'))
try {
  const main = JSON.parse(readFileSync(path.join(here, 'latchkey', 'package.json'), 'utf8'))
  for (const spec of values.binary) {
    const [target, binary] = spec.split('=')
    const platform = PLATFORMS[target]
    if (!platform || !binary) throw new Error(`--binary ${spec}: expected TARGET=PATH with a target of ${Object.keys(PLATFORMS).join(', ')}`)
    const [os, cpu] = platform
    const name = `@latchkey/cli-${os}-${cpu}`
    if (!(name in main.optionalDependencies)) throw new Error(`${name} is not an optional dependency of latchkey`)
    const dir = path.join(work, `cli-${os}-${cpu}`)
    mkdirSync(path.join(dir, 'bin'), { recursive: true })
    const exe = os === 'win32' ? 'latchkey.exe' : 'latchkey'
    copyFileSync(path.resolve(binary), path.join(dir, 'bin', exe))
    chmodSync(path.join(dir, 'bin', exe), 0o755)
    copyFileSync(path.join(repo, 'LICENSE'), path.join(dir, 'LICENSE'))
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify(
        {
          name,
          version,
          description: `The latchkey binary for ${os}-${cpu} (installed by the latchkey package)`,
          license: 'MIT',
          os: [os],
          cpu: [cpu],
          files: ['bin', 'LICENSE'],
          preferUnplugged: true,
        },
        null,
        2,
      ) + '\n',
    )
    console.log(pack(dir, out))
  }
  const dir = path.join(work, 'latchkey')
  cpSync(path.join(here, 'latchkey'), dir, { recursive: true })
  copyFileSync(path.join(repo, 'LICENSE'), path.join(dir, 'LICENSE'))
  main.version = version
  main.files = [...main.files, 'LICENSE']
  for (const k of Object.keys(main.optionalDependencies)) main.optionalDependencies[k] = version
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(main, null, 2) + '\n')
  console.log(pack(dir, out))
} finally {
  rmSync(work, { recursive: true, force: true })
}
