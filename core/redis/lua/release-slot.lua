-- Frees a session's slot in its pool and in its workspace's share, and (for a real release, not an
-- admission undone) records the moment in both recent-release logs, trimmed to the window: the
-- turnover Retry-After is computed from.
-- KEYS[1] pool active ZSET, KEYS[2] pool owners HASH, KEYS[3] pool releases ZSET
-- ARGV[1] session id, ARGV[2] now (ms), ARGV[3] workspace key prefix ("<prefix>:ws:"),
-- ARGV[4] window (ms), ARGV[5] '1' to record the release
-- Returns 1 when the pool slot was held, else 0. Idempotent.
local held = redis.call('ZREM', KEYS[1], ARGV[1])
local ws = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local cutoff = tonumber(ARGV[2]) - tonumber(ARGV[4])
local function record(key)
  redis.call('ZADD', key, ARGV[2], ARGV[2] .. ':' .. ARGV[1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  redis.call('PEXPIRE', key, ARGV[4])
end
if ws then
  local removed = redis.call('ZREM', ARGV[3] .. ws .. ':live', ARGV[1])
  if removed == 1 and ARGV[5] == '1' then record(ARGV[3] .. ws .. ':released') end
end
if held == 1 and ARGV[5] == '1' then record(KEYS[3]) end
return held
