import QRCode from 'qrcode'
import { describe, expect, it } from 'vitest'
import { qrPath } from './QrCode'

describe('qrPath', () => {
  it('draws exactly the dark modules of the encoded text, inside a quiet zone', () => {
    const text = 'http://localhost:8000/device?user_code=BCDF-GHJK'
    const qr = QRCode.create(text, { errorCorrectionLevel: 'M' })
    const n = qr.modules.size
    let dark = 0
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (qr.modules.get(y, x)) dark++
    const { d, size } = qrPath(text)
    expect(size).toBe(n + 4)
    expect(d.match(/M/g)?.length).toBe(dark)
    // The top-left finder pattern's corner module, offset by the 2-module margin.
    expect(d.startsWith('M2 2h1v1h-1z')).toBe(true)
  })
})
