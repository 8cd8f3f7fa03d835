/**
 * Runs a command in a pseudo-terminal (@lydell/node-pty) and feeds its output into a
 * headless xterm (@xterm/headless), so tests can read the screen a user would see and
 * press keys. Used by the monitor's adapter tests and the CLI's end-to-end tests.
 */
import pty from "@lydell/node-pty"
import xterm from "@xterm/headless"
import { START_MS } from "./wait.js"

const { Terminal } = xterm

/** Named keys {@link PtySession.press} understands; anything else is sent as typed. */
export const PTY_KEYS: Readonly<Record<string, string>> = {
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  pgup: "\x1b[5~",
  pgdn: "\x1b[6~",
  home: "\x1b[H",
  end: "\x1b[F",
  enter: "\r",
  escape: "\x1b",
  backspace: "\x7f",
  tab: "\t",
  "ctrl-c": "\x03"
}

/** Options of {@link spawnInPty}. */
export interface PtyOptions {
  readonly cols?: number
  readonly rows?: number
  readonly cwd?: string
  /** Added to (and overriding) the current environment; TERM defaults to xterm-256color. */
  readonly env?: Readonly<Record<string, string>>
}

/** A running command in a pseudo-terminal and the screen it draws. */
export interface PtySession {
  /** The emulated terminal (e.g. `term.buffer.active.type` is 'normal' or 'alternate'). */
  readonly term: InstanceType<typeof Terminal>
  /** The child's exit code, once it exited and all its output has been parsed. */
  readonly exitCode: Promise<number>
  /** The visible screen, one line per row, trailing spaces trimmed. */
  screenText(): string
  /** Everything the child wrote so far, escape sequences included. */
  rawOutput(): string
  /** Resolves once the screen contains `text` (or matches it); rejects with the screen after `timeoutMs` (default START_MS of wait.ts). */
  waitForText(text: string | RegExp, timeoutMs?: number): Promise<void>
  /**
   * Resolves once `holds(screen)` is true of the screen (all output so far parsed, checked
   * every 20 ms); rejects naming `what`, with the screen, after `timeoutMs` (default START_MS).
   */
  waitForScreen(what: string, holds: (screen: string) => boolean, timeoutMs?: number): Promise<void>
  /** Sends a key (see {@link PTY_KEYS}) and waits for ~`quietMs` ms without output. */
  press(key: string, quietMs?: number): Promise<void>
  /** Resolves after `quietMs` ms without output (at most `maxMs`). */
  waitForQuiet(quietMs?: number, maxMs?: number): Promise<void>
  /** Resizes the pseudo-terminal and the emulated screen. */
  resize(cols: number, rows: number): void
  /** Sends a signal to the child (default SIGTERM). */
  kill(signal?: string): void
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Starts `file args` in a pseudo-terminal of `cols` x `rows` (default 80x24). */
export function spawnInPty(file: string, args: readonly string[], opts: PtyOptions = {}): PtySession {
  const cols = opts.cols ?? 80
  const rows = opts.rows ?? 24
  const term = new Terminal({ cols, rows, allowProposedApi: true })
  const env = { ...process.env, TERM: "xterm-256color", ...opts.env } as Record<string, string>
  const child = pty.spawn(file, [...args], { name: env["TERM"] ?? "xterm-256color", cols, rows, cwd: opts.cwd ?? process.cwd(), env })
  let lastOutput = Date.now()
  let raw = ""
  let parsing = Promise.resolve()
  child.onData((data) => {
    lastOutput = Date.now()
    raw += data
    parsing = parsing.then(() => new Promise<void>((resolve) => term.write(data, resolve)))
  })
  // The exit event can overtake the last chunks of output: let them arrive, then parse them.
  const exitCode = new Promise<number>((resolve) => {
    child.onExit(({ exitCode: code }) => {
      void sleep(50)
        .then(() => parsing)
        .then(() => resolve(code))
    })
  })

  const screenText = (): string => {
    const buffer = term.buffer.active
    const lines: string[] = []
    for (let y = 0; y < term.rows; y++) lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? "")
    return lines.join("\n")
  }
  const waitForScreen = async (what: string, holds: (screen: string) => boolean, timeoutMs = START_MS): Promise<void> => {
    const started = Date.now()
    for (;;) {
      await parsing
      if (holds(screenText())) return
      if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}; screen:\n${screenText()}`)
      await sleep(20)
    }
  }
  const waitForQuiet = async (quietMs = 40, maxMs = 2000): Promise<void> => {
    const started = Date.now()
    while (Date.now() - lastOutput < quietMs && Date.now() - started < maxMs) await sleep(10)
    await parsing
  }
  return {
    term,
    exitCode,
    screenText,
    rawOutput: () => raw,
    waitForText(text, timeoutMs = START_MS) {
      return waitForScreen(String(text), (screen) => (typeof text === "string" ? screen.includes(text) : text.test(screen)), timeoutMs)
    },
    waitForScreen,
    async press(key, quietMs = 40) {
      lastOutput = Date.now()
      child.write(PTY_KEYS[key] ?? key)
      await waitForQuiet(quietMs)
    },
    waitForQuiet,
    resize(c, r) {
      child.resize(c, r)
      term.resize(c, r)
    },
    kill(signal) {
      child.kill(signal)
    }
  }
}
