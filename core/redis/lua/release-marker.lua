-- Deletes an in-flight marker only if it still holds this request's token: never one that a later
-- request set after ours expired.
-- KEYS[1] the marker; ARGV[1] the token. Returns 1 when deleted, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
