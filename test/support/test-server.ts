/**
 * Prints the URL of a PostgreSQL for the tests when the machine has none on
 * 127.0.0.1:5432: aidp's own embedded server, kept under `.tmp/test-postgres` of the
 * checkout (outliving the run, like the real one; `aidp db stop` with XDG_DATA_HOME set
 * there stops it). Used by test/run.sh.
 */
import { fileURLToPath } from "node:url"
import { startEmbedded } from "../../src/config/embedded.js"

const dataHome = fileURLToPath(new URL("../../.tmp/test-postgres/", import.meta.url))
const server = await startEmbedded({ dataHome })
process.stdout.write(`${server.url}\n`)
