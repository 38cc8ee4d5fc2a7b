-- Rebuilds a workspace's live set from Postgres (after a Redis loss, and again whenever its marker
-- lapses, so an entry left by a race heals): adds every live session Postgres lists (and its owner
-- in its pool's owners HASH), drops entries Postgres does not list unless they were admitted within
-- the grace (their row may not be committed yet), then sets the marker.
-- KEYS[1] workspace live ZSET, KEYS[2] workspace live-set marker STRING
-- ARGV[1] now (ms), ARGV[2] grace (ms), ARGV[3] marker lifetime (ms), ARGV[4] workspace id,
-- then per live session: id, admitted at (ms), its pool's owners HASH key
-- Returns the size of the live set.
local live = {}
for i = 5, #ARGV, 3 do
  live[ARGV[i]] = true
  redis.call('ZADD', KEYS[1], 'NX', ARGV[i + 1], ARGV[i])
  redis.call('HSET', ARGV[i + 2], ARGV[i], ARGV[4])
end
local cutoff = tonumber(ARGV[1]) - tonumber(ARGV[2])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)) do
  if not live[id] then redis.call('ZREM', KEYS[1], id) end
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return redis.call('ZCARD', KEYS[1])
