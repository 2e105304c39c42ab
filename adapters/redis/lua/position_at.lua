-- The last position recorded at or before a time (0 if none).
--
-- KEYS: log, meta
-- ARGV: when (µs since the epoch)
--
-- recorded_at never decreases along positions (the append script sees to
-- it), so bisect over positions.  Deleted samples leave holes; "the first
-- entry at or after p" (XRANGE p + COUNT 1) steps over them and keeps the
-- test monotonic: O(log head) lookups, no index by time needed.
local log, meta, when = KEYS[1], KEYS[2], tonumber(ARGV[1])
local head = head_of(meta)

-- The smallest p whose first own entry at or after it was recorded after
-- `when` (none at all counts as "after": p = head + 1).  Foreign entries
-- (common.lua) are stepped over.
local low, high = 1, head + 1
while low < high do
  local middle = math.floor((low + high) / 2)
  local entry = own_entry_at_or_after(log, middle, head)
  if not entry or tonumber(field(entry[2], 'at')) > when then
    high = middle
  else
    low = middle + 1
  end
end

-- The answer is the last own entry before it.
local start = entry_id(low - 1)
while low > 1 do
  local found = redis.call('XREVRANGE', log, start, '-', 'COUNT', 10)
  if #found == 0 then
    return 0
  end
  for _, entry in ipairs(found) do
    if is_own_entry(entry[1], head) and field(entry[2], 'at') then
      return position_of_entry(entry[1])
    end
  end
  start = '(' .. found[#found][1]
end
return 0
