/** Turns a JOB argument (full UUID or unique prefix of 6+ characters) into a job id, or a sentence. */
import type { Queryable } from "../events/sqlClient.js"
import { MIN_PREFIX, resolveJobId } from "../projections/queries.js"
import { UsageError, UserError } from "./errors.js"

/**
 * Resolves `ref` to a job id. Throws UsageError for a malformed or too short reference,
 * UserError when no job or several jobs match.
 */
export const resolveJobRef = async (sql: Queryable, ref: string | undefined, usage: string): Promise<string> => {
  if (!ref) throw new UsageError(`Missing JOB (a job id or a unique prefix of at least ${MIN_PREFIX} characters). Usage: ${usage}`)
  const resolved = await resolveJobId(sql, ref)
  if ("id" in resolved) return resolved.id
  switch (resolved.problem) {
    case "too_short":
      throw new UsageError(
        `${JSON.stringify(ref)} is not a job id: give the full id or at least ${MIN_PREFIX} of its first characters (see aidp jobs list).`
      )
    case "not_found":
      throw new UserError(`No job matches ${JSON.stringify(ref)}; list jobs with aidp jobs list.`)
    case "ambiguous":
      throw new UserError(`Several jobs start with ${JSON.stringify(ref)}; give more characters of the id.`)
  }
}
