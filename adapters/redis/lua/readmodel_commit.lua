-- Commit a batch of a read model: check the checkpoint, delete the ranges,
-- write the rows, move the checkpoint (and keep a snapshot), all or nothing.
-- KEYS: cp, tables, snaps, snapdata, then (zset, hash) per table; the table
-- keys sit at 5, 6 for table 1, 7, 8 for table 2: zkey(t) = KEYS[3 + 2t].
local stored = tonumber(redis.call('HGET', KEYS[1], 'position') or '0')
local after, position = tonumber(ARGV[1]), tonumber(ARGV[2])
if stored ~= after then
  if stored == position then return {0, stored} end
  return {-1, stored}
end
local function zkey(t) return KEYS[3 + 2 * t] end
local function hkey(t) return KEYS[4 + 2 * t] end
local function remove(t, members)
  for c = 1, #members, 1000 do
    local chunk = {unpack(members, c, math.min(c + 999, #members))}
    redis.call('ZREM', zkey(t), unpack(chunk))
    redis.call('HDEL', hkey(t), unpack(chunk))
  end
end
local ntables = tonumber(ARGV[4])
local i = 5 + ntables
local nranges = tonumber(ARGV[i]); i = i + 1
for _ = 1, nranges do
  local t = tonumber(ARGV[i])
  remove(t, redis.call('ZRANGEBYLEX', zkey(t), '[' .. ARGV[i + 1], '(' .. ARGV[i + 2]))
  i = i + 3
end
local nwrites = tonumber(ARGV[i]); i = i + 1
for _ = 1, nwrites do
  local t, key = tonumber(ARGV[i]), ARGV[i + 1]
  if ARGV[i + 2] == '1' then
    redis.call('ZADD', zkey(t), 0, key)
    redis.call('HSET', hkey(t), key, ARGV[i + 3])
  else
    remove(t, {key})
  end
  i = i + 4
end
for t = 1, ntables do
  if redis.call('ZCARD', zkey(t)) > 0 then
    redis.call('SADD', KEYS[2], ARGV[4 + t])
  else
    redis.call('SREM', KEYS[2], ARGV[4 + t])
  end
end
redis.call('HSET', KEYS[1], 'position', ARGV[2], 'fingerprint', ARGV[3])
if ARGV[i] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[2])
  redis.call('HSET', KEYS[4], ARGV[2], ARGV[i + 1], ARGV[2] .. ':fp', ARGV[3])
end
return {1, position}
