-- Reserves a slot in a pool and in the workspace's share, atomically: N concurrent admissions against
-- room for C (the pool's free slots, or the workspace's quota, whichever is smaller) admit exactly C.
-- KEYS[1] pool active ZSET, KEYS[2] pool limits HASH, KEYS[3] pool owners HASH (session -> workspace),
-- KEYS[4] workspace live ZSET, KEYS[5] workspace live-set marker STRING
-- ARGV[1] session id, ARGV[2] now (ms), ARGV[3] workspace id, ARGV[4] the workspace's live-session quota
-- Returns 1 admitted (or already admitted), 0 pool full, -3 workspace quota reached, -1 pool limits
-- unknown, -2 workspace live set unknown (the caller restores from Postgres and retries either way).
local max = redis.call('HGET', KEYS[2], 'max_total')
if not max then return -1 end
if redis.call('EXISTS', KEYS[5]) == 0 then return -2 end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[4]) then return -3 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(max) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return 1
