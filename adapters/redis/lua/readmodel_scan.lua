-- Rows of one table between two row keys (lex order), at most ARGV[3].
-- KEYS: the table's zset, its hash.
local keys = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
if #keys == 0 then return {} end
local rows = {}
for c = 1, #keys, 1000 do
  local chunk = {unpack(keys, c, math.min(c + 999, #keys))}
  local values = redis.call('HMGET', KEYS[2], unpack(chunk))
  for j = 1, #chunk do
    rows[#rows + 1] = chunk[j]
    rows[#rows + 1] = values[j]
  end
end
return rows
