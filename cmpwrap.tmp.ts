import { wrap as oldWrap, truncate as oldTrunc } from "/tmp/oldtext.ts"
import { wrap, truncate } from "/work/main/src/terminal/view/text.ts"
const alphabet = ["a", "b", " ", " ", "日", "🎉", "e\u0301", "\u200b", "\u3000", "x"]
let bad = 0
for (let i = 0; i < 200000; i++) {
  const n = Math.floor(Math.random() * 20)
  let s = ""
  for (let j = 0; j < n; j++) s += alphabet[Math.floor(Math.random() * alphabet.length)]
  const w = Math.floor(Math.random() * 7)
  const a = JSON.stringify(oldWrap(s, w)), b = JSON.stringify(wrap(s, w))
  if (a !== b && bad++ < 10) console.log(JSON.stringify(s), w, a, b)
  const c = oldTrunc(s, w), d = truncate(s, w)
  if (c !== d && bad++ < 10) console.log("trunc", JSON.stringify(s), w, c, d)
}
console.log("mismatches", bad)
const big = "0123456789abcdef".repeat(6 * 1024 * 1024 / 16)
let t = Date.now(); const r = wrap(big, 64); console.log("6MB ascii wrap", Date.now() - t, "ms", r.length)
t = Date.now(); const r2 = wrap("日本語 ".repeat(500000), 64); console.log("2M non-ascii wrap", Date.now() - t, "ms", r2.length)
