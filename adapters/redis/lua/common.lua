-- Helpers shared by every hublog script; adapters/redis/scripts.py puts this
-- file in front of each one.  The key layout is described in
-- adapters/redis/keys.py.

-- Lua 5.1 numbers are doubles: format integers ourselves, never with tostring
-- (which switches to exponent notation above 1e14).
local function int(n)
  return string.format('%d', n)
end

local function entry_id(position)
  return int(position) .. '-0'
end

local function position_of_entry(id)
  return tonumber(string.match(id, '^(%d+)'))
end

-- Index members: stream NUL version (16 digits) NUL position, all with score
-- 0, so ZRANGE BYLEX orders one stream's members by version.  Stream names
-- never contain NUL or \1 (eventstore/streams.py), so `stream .. '\1'` sorts
-- after every member of that stream and before every other stream's.
local function version_bound(stream, version)
  return stream .. '\0' .. string.format('%016d', version)
end

local function index_member(stream, version, position)
  return version_bound(stream, version) .. '\0' .. int(position)
end

local function stream_end(stream)
  return stream .. '\1'
end

-- `%z` is NUL: Lua 5.1 patterns cannot hold a literal one.
local function position_of_member(member)
  return tonumber(string.match(member, '%z(%d+)$'))
end

local function version_of_member(member)
  return tonumber(string.match(member, '%z(%d+)%z'))
end

-- The value of one field of a stream entry (a flat field/value array).
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then
      return fields[i + 1]
    end
  end
  return nil
end

-- The log entry at `position`, or nil once it was deleted.
local function entry_at(log, position)
  local id = entry_id(position)
  return redis.call('XRANGE', log, id, id)[1]
end

-- Foreign entries: a stream entry hublog did not write (another tool's XADD,
-- with an automatic id or one of its own).  hublog's entries have ids
-- "<position>-0" with 1 <= position <= head.  Anything else is foreign:
-- readers step over it, and an append first moves the ones above the head
-- (which would make its XADD fail) into the hub's `foreign` hash, so
-- nothing is lost and the hub stays writable.
local function is_own_entry(id, head)
  local position, seq = string.match(id, '^(%d+)-(%d+)$')
  return seq == '0' and tonumber(position) >= 1 and tonumber(position) <= head
end

local function head_of(meta)
  return tonumber(redis.call('HGET', meta, 'head') or '0')
end

-- The first of hublog's own entries at or after `position`, or nil.
local function own_entry_at_or_after(log, position, head)
  local start = entry_id(position)
  while true do
    local found = redis.call('XRANGE', log, start, '+', 'COUNT', 10)
    if #found == 0 then
      return nil
    end
    for _, entry in ipairs(found) do
      if is_own_entry(entry[1], head) and field(entry[2], 'at') then
        return entry
      end
      if position_of_entry(entry[1]) > head then
        return nil
      end
    end
    start = '(' .. found[#found][1]
  end
end

-- Move every entry above `head` out of the log into the `foreign` hash
-- (entry id -> its fields as JSON), and set the stream's last id back to
-- "<head>-0" (XDEL alone leaves it above), so XADD "<head + 1>-0" works.
local function set_aside_foreign(log, foreign, head)
  local above = redis.call('XRANGE', log, '(' .. entry_id(head), '+')
  for _, entry in ipairs(above) do
    redis.call('HSET', foreign, entry[1], cjson.encode(entry[2]))
    redis.call('XDEL', log, entry[1])
  end
  if redis.call('EXISTS', log) == 1 then
    redis.call('XSETID', log, entry_id(head))
  end
  return #above
end
