// A QR code as inline SVG (one path of dark modules), from the `qrcode` package's encoder: no
// canvas, no data: URL, so it obeys the admin UI's Content-Security-Policy and scales crisply.

import QRCode from 'qrcode'
import { useMemo } from 'react'

/** The SVG path of a QR code's dark modules, and its size in modules (quiet zone included). */
export function qrPath(text: string, margin = 2): { d: string; size: number } {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' })
  const n = qr.modules.size
  let d = ''
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (qr.modules.get(y, x)) d += `M${x + margin} ${y + margin}h1v1h-1z`
    }
  }
  return { d, size: n + 2 * margin }
}

export function QrCode({ text, size = 132, label }: { text: string; size?: number; label: string }) {
  const { d, size: n } = useMemo(() => qrPath(text), [text])
  return (
    <svg className="qr" width={size} height={size} viewBox={`0 0 ${n} ${n}`} role="img" aria-label={label} shapeRendering="crispEdges">
      <rect width={n} height={n} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  )
}
