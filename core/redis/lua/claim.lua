-- Claims a warm pod for a session, atomically: a pod is popped by exactly one session.
-- A session that already holds a claim (a retried provision job) gets the same pod back.
-- KEYS[1] pool warm LIST, KEYS[2] session pod STRING
-- Returns the pod id, or false when no warm pod is left.
local held = redis.call('GET', KEYS[2])
if held then return held end
local pod = redis.call('LPOP', KEYS[1])
if not pod then return false end
redis.call('SET', KEYS[2], pod)
return pod
