-- The atomic append: one batch to one stream of one hub, all or nothing.
--
-- KEYS: log, meta, versions, ids, index, foreign (adapters/redis/keys.py)
-- ARGV: stream, expected version (-1 = ANY), touch ('1' = on a retry, write
--       something anyway, so WAITAOF on this connection covers the original
--       write), n, then per event: event_id, type, schema_version, data,
--       correlation id, causation id (each id '' when unset, '=' .. id when set)
--
-- Replies {'written', {event_id, 'stream NUL version NUL position', ...}}
-- when ids of the batch are already in the log (the caller decides, with
-- resolve_retry, what that means), {'conflict', actual version}, or
-- {'ok', new version, first position, last position}.
--
-- Every check comes before the first write, and no write can be refused:
-- foreign entries above the head (common.lua) are set aside first, so the
-- XADDs at "<head + i>-0" are always above the stream's last id.
local log, meta, versions, ids, index, foreign = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local stream, expected = ARGV[1], tonumber(ARGV[2])
local touch, n = ARGV[3] == '1', tonumber(ARGV[4])
local PER_EVENT = 6

local function arg(i, k)
  return ARGV[4 + (i - 1) * PER_EVENT + k]
end

-- 1. Ids already written: kept as long as the event is, so retries are
-- recognised however late they come, also after a restart.
local written = {}
for i = 1, n do
  local where = redis.call('HGET', ids, arg(i, 1))
  if where then
    written[#written + 1] = arg(i, 1)
    written[#written + 1] = where
  end
end
if #written > 0 then
  if touch then
    redis.call('HINCRBY', meta, 'retried', 1)
  end
  return {'written', written}
end

-- 2. Expected version.
local version = tonumber(redis.call('HGET', versions, stream) or '0')
if expected >= 0 and version ~= expected then
  return {'conflict', version}
end

-- 3. The clock: Redis TIME, never earlier than the hub's last event, so that
-- recorded_at follows position order and position_at can bisect.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local clock = tonumber(redis.call('HGET', meta, 'clock') or '0')
if now < clock then
  now = clock
end
local head = head_of(meta)
local top = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)[1]
if top and top[1] ~= entry_id(head) then
  set_aside_foreign(log, foreign, head)
end

-- 4. The events, at the next positions: the entry id is the position.
for i = 1, n do
  local entry = {
    's', stream, 'v', int(version + i), 'id', arg(i, 1), 't', arg(i, 2),
    'sv', arg(i, 3), 'd', arg(i, 4), 'at', int(now),
  }
  if arg(i, 5) ~= '' then
    entry[#entry + 1] = 'c'
    entry[#entry + 1] = string.sub(arg(i, 5), 2)
  end
  if arg(i, 6) ~= '' then
    entry[#entry + 1] = 'k'
    entry[#entry + 1] = string.sub(arg(i, 6), 2)
  end
  if i == 1 then
    -- Foreign entries deleted by hand may have left the stream's last id
    -- above the head: set it back and write again.
    local added = redis.pcall('XADD', log, entry_id(head + i), unpack(entry))
    if type(added) == 'table' and added.err then
      set_aside_foreign(log, foreign, head)
      redis.call('XADD', log, entry_id(head + i), unpack(entry))
    end
  else
    redis.call('XADD', log, entry_id(head + i), unpack(entry))
  end
end

-- 5. Lookups by id and by version, then the counters.
for i = 1, n do
  redis.call('HSET', ids, arg(i, 1), stream .. '\0' .. int(version + i) .. '\0' .. int(head + i))
  redis.call('ZADD', index, 0, index_member(stream, version + i, head + i))
end
redis.call('HSET', versions, stream, int(version + n))
redis.call('HSET', meta, 'head', int(head + n), 'clock', int(now))
return {'ok', version + n, head + 1, head + n}
