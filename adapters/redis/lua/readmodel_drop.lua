-- Drop a read model, unless a commit added a table since the caller listed them.
-- KEYS: cp, tables, snaps, snapdata, then every table's zset and hash.
local tables = redis.call('SMEMBERS', KEYS[2])
if #tables ~= tonumber(ARGV[1]) then return 0 end
for _, name in ipairs(tables) do
  local known = false
  for t = 2, #ARGV do if ARGV[t] == name then known = true end end
  if not known then return 0 end
end
redis.call('DEL', unpack(KEYS))
return 1
