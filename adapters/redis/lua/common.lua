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
