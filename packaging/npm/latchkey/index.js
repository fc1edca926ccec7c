'use strict'
// Finds the `latchkey` binary that npm installed for this platform: the optional dependency
// `@latchkey/cli-<platform>-<arch>` whose `os` and `cpu` match (the others are skipped by npm).

const path = require('node:path')

/** `@latchkey/cli-linux-x64` and the like: the package carrying this platform's binary. */
function platformPackage(platform = process.platform, arch = process.arch) {
  return `@latchkey/cli-${platform}-${arch}`
}

/**
 * The absolute path of the `latchkey` executable for this platform. Throws an Error saying what
 * to do when no prebuilt binary was installed (an unsupported platform, or `--no-optional`).
 */
function binaryPath() {
  const pkg = platformPackage()
  let manifest
  try {
    manifest = require.resolve(`${pkg}/package.json`)
  } catch {
    throw new Error(
      `latchkey: no prebuilt binary for ${process.platform}-${process.arch} (the package ${pkg} is not installed). ` +
        'Prebuilt binaries exist for linux-x64, linux-arm64, darwin-x64, darwin-arm64 and win32-x64; ' +
        'if yours is one of them, reinstall without --no-optional / --omit=optional. ' +
        'Otherwise build it: cargo install latchkey',
    )
  }
  return path.join(path.dirname(manifest), 'bin', process.platform === 'win32' ? 'latchkey.exe' : 'latchkey')
}

module.exports = { binaryPath, platformPackage }
