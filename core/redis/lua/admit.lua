-- Reserves a slot in a pool, atomically: N concurrent admissions against room for C admit exactly C.
-- KEYS[1] pool active ZSET, KEYS[2] pool limits HASH
-- ARGV[1] session id, ARGV[2] now (ms)
-- Returns 1 admitted (or already admitted), 0 full, -1 limits unknown (caller publishes them and retries).
local max = redis.call('HGET', KEYS[2], 'max_total')
if not max then return -1 end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) < tonumber(max) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  return 1
end
return 0
