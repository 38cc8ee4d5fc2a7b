-- Publishes a pool's limits unless newer ones are there already: the broker publishes right after an
-- operator's change, and a controller pass that read the settings before that change must not put
-- the old ones back.
-- KEYS[1] pool limits HASH; ARGV[1] max_total, ARGV[2] min_ready, ARGV[3] version (settings' updated_at, ms)
-- Returns 1 published, 0 kept the newer limits.
local stored = redis.call('HGET', KEYS[1], 'version')
if stored and tonumber(stored) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'max_total', ARGV[1], 'min_ready', ARGV[2], 'version', ARGV[3])
return 1
