-- One page of one stream's events by version, in one round trip and one
-- consistent view (a deletion cannot run between the index and the log).
--
-- KEYS: log, index
-- ARGV: stream, after_version, before_version (-1 = none), backwards ('1'), limit
-- Replies the log entries {{id, {field, value, ...}}, ...}.
local log, index = KEYS[1], KEYS[2]
local stream, after, before = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local backwards, limit = ARGV[4] == '1', tonumber(ARGV[5])

local low = '[' .. version_bound(stream, after + 1)
local high = '(' .. stream_end(stream)
if before >= 0 then
  high = '(' .. version_bound(stream, before)
end

local members
if backwards then
  members = redis.call('ZRANGE', index, high, low, 'BYLEX', 'REV', 'LIMIT', 0, limit)
else
  members = redis.call('ZRANGE', index, low, high, 'BYLEX', 'LIMIT', 0, limit)
end

local entries = {}
for _, member in ipairs(members) do
  local entry = entry_at(log, position_of_member(member))
  if entry then
    entries[#entries + 1] = entry
  end
end
return entries
