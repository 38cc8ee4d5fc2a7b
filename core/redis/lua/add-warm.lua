-- Puts a started pod on the warm list, atomically and only when it fits and the caller still leads:
-- warm + admitted < max_total (so warm + held never exceeds max_total), and the leader lease holds
-- the caller's token (a paused ex-leader cannot add pods; fencing).
-- KEYS[1] pool warm LIST, KEYS[2] pool active ZSET, KEYS[3] pool limits HASH, KEYS[4] pod STRING,
-- KEYS[5] leader lease STRING
-- ARGV[1] pod id, ARGV[2] pod JSON, ARGV[3] leader token
-- Returns 1 added, 0 no room (or limits unknown), -1 not the leader.
if redis.call('GET', KEYS[5]) ~= ARGV[3] then return -1 end
local max = redis.call('HGET', KEYS[3], 'max_total')
if not max then return 0 end
if redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= tonumber(max) then return 0 end
redis.call('SET', KEYS[4], ARGV[2])
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
