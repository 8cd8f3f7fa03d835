-- Budgets per job (issue 7 item 6): one execution's limits on spending, from JobQueued
-- `max_cost_usd` (`--max-cost`) and `max_turns` (`--max-turns`). Null: no limit (every job
-- queued before budgets existed). Shown by `aidp jobs show` and the monitor's details; the
-- worker reads the limits from the JobQueued event itself (src/workers/execution.ts).
alter table jobs add column max_cost_usd numeric check (max_cost_usd > 0);
alter table jobs add column max_turns integer check (max_turns >= 1);
