/**
 * The advisory lock that keeps a rebuild and a prune apart (rebuild.ts, prune.ts): a rebuild
 * holds it exclusively from its snapshot to its swap, each prune batch holds it shared. A prune
 * committed in between would delete events and rows that the rebuilt tables still hold.
 * One lock per schema: `hashtext('aidp:rebuild:' || current_schema())`.
 */
export const REBUILD_LOCK = "hashtext('aidp:rebuild:' || current_schema())"
