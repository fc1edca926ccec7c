// Code display: highlight.js core with only the JSON and shell grammars (small bundle).

import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import json from 'highlight.js/lib/languages/json'
import ini from 'highlight.js/lib/languages/ini'
import { useMemo } from 'react'
import { CopyButton } from './ui'

hljs.registerLanguage('json', json)
hljs.registerLanguage('bash', bash)
hljs.registerLanguage('toml', ini)

export function Code({ code, language = 'json', copy = true, wrap = false, maxHeight }: {
  code: string
  language?: 'json' | 'bash' | 'toml' | 'text'
  copy?: boolean
  wrap?: boolean
  maxHeight?: number
}) {
  // highlight.js escapes the text it returns, so the HTML is safe to insert.
  const html = useMemo(
    () => (language === 'text' ? null : hljs.highlight(code, { language, ignoreIllegals: true }).value),
    [code, language],
  )
  return (
    <div className="code-block">
      {html === null ? (
        <pre className={`code ${wrap ? 'wrap' : ''}`} style={{ maxHeight }}>{code}</pre>
      ) : (
        <pre className={`code ${wrap ? 'wrap' : ''}`} style={{ maxHeight }} dangerouslySetInnerHTML={{ __html: html }} />
      )}
      {copy && (
        <span className="copy">
          <CopyButton text={code} small />
        </span>
      )}
    </div>
  )
}

export const Json = ({ value, ...rest }: { value: unknown; copy?: boolean; maxHeight?: number; wrap?: boolean }) => (
  <Code code={JSON.stringify(value, null, 2)} language="json" {...rest} />
)
