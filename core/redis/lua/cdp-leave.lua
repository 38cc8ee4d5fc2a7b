-- A proxy's CDP clients of one session leave: `count` of them (1 on a disconnect; all of them when
-- the proxy itself died). Then counts who is still connected, through proxies that are alive
-- (their heartbeat key exists); a dead proxy's entry is dropped on the way.
-- KEYS[1] session connections HASH (proxy id -> open sockets), KEYS[2] the proxy's sessions SET
-- ARGV[1] proxy id, ARGV[2] how many leave ('all' for every one), ARGV[3] proxy key prefix
-- ("<prefix>:proxy:"), ARGV[4] session id
-- Returns {left, still_connected}.
local left
if ARGV[2] == 'all' then
  left = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[4])
else
  local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))
  if n <= 0 then
    redis.call('HDEL', KEYS[1], ARGV[1])
    redis.call('SREM', KEYS[2], ARGV[4])
  end
  left = tonumber(ARGV[2])
end
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[3] .. fields[i] .. ':alive') == 1 then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
return {left, total}
