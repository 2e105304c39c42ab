-- The import: events copied from another log, kept exactly as recorded
-- (position, version, event id, recorded_at, payload), all or nothing.
-- The rule is eventstore/importing.py's, step for step: an event already
-- here at the same place is skipped; a new one must come after the head,
-- above its stream's version, no earlier than the hub's clock.
--
-- KEYS: log, meta, versions, ids, index, foreign (adapters/redis/keys.py)
-- ARGV: n, then per event: event_id, stream, version, position, type,
--       schema_version, data, recorded_at (µs), correlation id, causation id
--       (each id '' when unset, '=' .. id when set)
--
-- Replies {'ok', events written} or {'conflict', index in the batch (1-based),
-- what disagrees: 'moved' (with where the id is), 'behind' (the head),
-- 'version' (the stream's version) or 'clock' (the hub's clock, µs)}.
-- Every check comes before the first write, so a conflict writes nothing.
local log, meta, versions, ids, index, foreign = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local n = tonumber(ARGV[1])
local PER_EVENT = 10

local function arg(i, k)
  return ARGV[1 + (i - 1) * PER_EVENT + k]
end

local head = head_of(meta)
local first_head = head
local clock = tonumber(redis.call('HGET', meta, 'clock') or '0')
local stream_versions, fresh = {}, {}

-- 1. Decide, writing nothing.
for i = 1, n do
  local stream, version, position = arg(i, 2), tonumber(arg(i, 3)), tonumber(arg(i, 4))
  local at = tonumber(arg(i, 8))
  local where = redis.call('HGET', ids, arg(i, 1))
  if where then
    if where ~= stream .. '\0' .. int(version) .. '\0' .. int(position) then
      return {'conflict', i, 'moved', where}
    end
  elseif position <= head then
    -- a raw sample that retention here already removed is not brought back
    if not (arg(i, 5) == 'MetricsSampled' and string.sub(stream, 1, 8) == 'metrics/') then
      return {'conflict', i, 'behind', int(head)}
    end
  else
    local current = stream_versions[stream]
    if current == nil then
      current = tonumber(redis.call('HGET', versions, stream) or '0')
    end
    if version <= current then
      return {'conflict', i, 'version', int(current)}
    end
    if at < clock then
      return {'conflict', i, 'clock', int(clock)}
    end
    stream_versions[stream], head, clock = version, position, at
    fresh[#fresh + 1] = i
  end
end

-- 2. Write: positions only grow past the head, and foreign entries above it
-- (common.lua) are set aside first, so no XADD is refused.
if #fresh > 0 then
  local top = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)[1]
  if top and top[1] ~= entry_id(first_head) then
    set_aside_foreign(log, foreign, first_head)
  end
end
for _, i in ipairs(fresh) do
  local stream, version, position = arg(i, 2), tonumber(arg(i, 3)), tonumber(arg(i, 4))
  local entry = {
    's', stream, 'v', int(version), 'id', arg(i, 1), 't', arg(i, 5),
    'sv', arg(i, 6), 'd', arg(i, 7), 'at', arg(i, 8),
  }
  if arg(i, 9) ~= '' then
    entry[#entry + 1] = 'c'
    entry[#entry + 1] = string.sub(arg(i, 9), 2)
  end
  if arg(i, 10) ~= '' then
    entry[#entry + 1] = 'k'
    entry[#entry + 1] = string.sub(arg(i, 10), 2)
  end
  redis.call('XADD', log, entry_id(position), unpack(entry))
  redis.call('HSET', ids, arg(i, 1), stream .. '\0' .. int(version) .. '\0' .. int(position))
  redis.call('ZADD', index, 0, index_member(stream, version, position))
end
for stream, version in pairs(stream_versions) do
  redis.call('HSET', versions, stream, int(version))
end
if #fresh > 0 then
  redis.call('HSET', meta, 'head', int(head), 'clock', int(clock))
end
return {'ok', #fresh}
