/*
 * bcryptprimitives.dll for Wine 8.0 (Debian 12), which lacks it. Only scripts/dist-test.sh uses
 * it, to run the Windows binary under Wine; it is never shipped.
 *
 * Rust's standard library (1.78 and later) takes random bytes from ProcessPrng in
 * bcryptprimitives.dll, as Windows 10 and later provide. Wine 9 has the DLL. This shim gives
 * Wine 8 the one export, forwarded to BCryptGenRandom with the system RNG. That is Windows's
 * own documented source, which Wine implements.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
