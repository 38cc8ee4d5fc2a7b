-- Pools are created and retired by operators (API, CLI, dashboard). A retired pool keeps its row
-- (sessions reference it) with no capacity; creating the same region x runtime_kind revives it.
ALTER TABLE pools ADD COLUMN retired_at timestamptz;
