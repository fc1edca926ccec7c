/** The absolute path of the `latchkey` executable installed for this platform. */
export function binaryPath(): string
/** The npm package that carries the binary for a platform, e.g. `@latchkey/cli-linux-x64`. */
export function platformPackage(platform?: string, arch?: string): string
