-- Isolated runs and what they changed (issue 11): a `--worktree` job runs in a git worktree of
-- its own, and every ending execution records what it changed (ExecutionChanges). The
-- summaries come from the events; the full diff stays in git and is read on demand.

-- The latest ExecutionChanges summary of an execution: {repo, base, head, worktree?,
-- approximate?, files: [{path, status, added, removed}], file_count, lines_added,
-- lines_removed} (src/domain/changes.ts). Null when none was recorded.
alter table job_executions add column changes jsonb;
-- The job's latest summary without its file list (the list and the monitor show its totals):
-- one row read per listed job, no join.
alter table jobs add column changes jsonb;
-- Where the job's worktree stands: null (none recorded), open, merged or removed
-- (ExecutionChanges with a worktree, WorktreeMerged, WorktreeRemoved). `aidp jobs clean`
-- reads it with the job's status and completed_at; the decider's state reads it (loadState).
alter table jobs add column worktree_state text check (worktree_state in ('open', 'merged', 'removed'));
