-- bench.lua - an allocation-heavy Lua program, for comparing malloc
-- implementations on a program shaped like real use: every table, string
-- and closure is Lua's realloc/free through the C library's allocator.
--   lua /lua/bench.lua [SCALE]      (SCALE 1..12, default 4)
-- Phases: binary trees (many short-lived small tables, a few long-lived),
-- string building (concatenation, gsub, a buffer grown by realloc), and a
-- hash-table churn (inserts and deletes in LCG order). Prints "key:
-- value" checksums, the same under every allocator.
local scale = math.tointeger(tonumber(arg[1] or "4")) or 0
if scale < 1 or scale > 12 then
	io.stderr:write("bench.lua: SCALE must be 1..12\n")
	os.exit(2)
end

local function tree(depth)
	if depth == 0 then return {} end
	depth = depth - 1
	return { tree(depth), tree(depth) }
end

local function nodes(t)
	if t[1] then return 1 + nodes(t[1]) + nodes(t[2]) end
	return 1
end

local max_depth = scale + 6
local long_lived = tree(max_depth)
local total = 0
for depth = 4, max_depth, 2 do
	local iterations = 1 << (max_depth - depth + 4)
	for _ = 1, iterations do total = total + nodes(tree(depth)) end
end
print("trees: " .. total .. " " .. nodes(long_lived))

local parts = {}
for i = 1, 2000 * scale do parts[#parts + 1] = string.format("%d:%x;", i, i * 2654435761 % 4294967296) end
local s = table.concat(parts)
local replaced, count = s:gsub("(%d+):(%x+);", "%2=%1 ")
local buf = ""
for i = 1, 200 * scale do buf = buf .. tostring(i) end
print("strings: " .. #s .. " " .. count .. " " .. #replaced .. " " .. #buf)

local map, x, live = {}, 12345, 0
for _ = 1, 4000 * scale do
	x = (x * 1103515245 + 12345) % 2147483648
	local k = "k" .. (x % (1000 * scale))
	if map[k] then map[k] = nil; live = live - 1 else map[k] = { x, k }; live = live + 1 end
end
local n = 0
for _ in pairs(map) do n = n + 1 end
print("churn: " .. live .. " " .. n)
