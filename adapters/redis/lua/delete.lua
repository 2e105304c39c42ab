-- Delete one chunk of events of one type from one stream, up to a version.
-- Versions and the head are left alone: they never go down.  The ids hash
-- keeps each deleted event's place, so appending it again is still answered
-- as a retry of the original append (docs/reliability.md), never written twice.
--
-- KEYS: log, index
-- ARGV: stream, after_version (the chunk starts above it), through_version,
--       type, chunk size
-- Replies {removed, index members looked at, last version looked at}; the
-- caller goes on from that version while a whole chunk was looked at.
local log, index = KEYS[1], KEYS[2]
local stream, after, through = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local type_name, chunk = ARGV[4], tonumber(ARGV[5])

local members = redis.call(
  'ZRANGE', index,
  '[' .. version_bound(stream, after + 1),
  '(' .. version_bound(stream, through + 1),
  'BYLEX', 'LIMIT', 0, chunk
)

local removed, last = 0, after
for _, member in ipairs(members) do
  last = version_of_member(member)
  local entry = entry_at(log, position_of_member(member))
  if entry and field(entry[2], 't') == type_name then
    redis.call('XDEL', log, entry[1])
    redis.call('ZREM', index, member)
    removed = removed + 1
  end
end
return {removed, #members, last}
