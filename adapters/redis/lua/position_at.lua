-- The last position recorded at or before a time (0 if none).
--
-- KEYS: log
-- ARGV: when (µs since the epoch)
--
-- recorded_at never decreases along positions (the append script sees to
-- it), so bisect over positions.  Deleted samples leave holes; "the first
-- entry at or after p" (XRANGE p + COUNT 1) steps over them and keeps the
-- test monotonic: O(log head) lookups, no index by time needed.
local log, when = KEYS[1], tonumber(ARGV[1])

local last = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)[1]
if not last then
  return 0
end

-- The smallest p whose first entry at or after it was recorded after `when`.
local low, high = 1, position_of_entry(last[1]) + 1
while low < high do
  local middle = math.floor((low + high) / 2)
  local entry = redis.call('XRANGE', log, entry_id(middle), '+', 'COUNT', 1)[1]
  if tonumber(field(entry[2], 'at')) > when then
    high = middle
  else
    low = middle + 1
  end
end

-- The answer is the last entry before it.
local before = redis.call('XREVRANGE', log, entry_id(low - 1), '-', 'COUNT', 1)[1]
if before then
  return position_of_entry(before[1])
end
return 0
