-- Worker liveness (not job state, so not event sourced): each worker process registers
-- here and renews `heartbeat_at`; the rescuer (src/workers/rescuer.ts) abandons the
-- running executions of workers whose heartbeat is older than the lease.
create table workers (
  id           text primary key,
  host         text        not null,
  pid          integer     not null,
  started_at   timestamptz not null,
  heartbeat_at timestamptz not null,
  stopped_at   timestamptz
);
-- Rescuer: workers whose lease has run out.
create index workers_heartbeat on workers (heartbeat_at) where stopped_at is null;
