-- check.lua - Lua 5.4 on Tally: the language and its standard library over
-- Tally's C runtime (picolibc, libtallyrt, the kernel's system calls).
-- Prints "key: value" lines; tests/qemu/test_lua.py computes each expected
-- value on its own (Python, or the Lua reference manual) and compares.
--   lua /lua/check.lua [README-PATH]

local function out(k, v) print(k .. ": " .. tostring(v)) end

-- integers and floats (Lua 5.4: 64-bit integers, IEEE doubles in software)
out("int_ops", table.concat({ 7 // 2, 7 % -3, -7 // 2, 3 | 5, 6 ~ 3, 1 << 62 }, " "))
out("maxinteger", math.maxinteger)
out("wrap", math.maxinteger + 1 == math.mininteger)
out("float_ops", string.format("%.6f %.6f %.6f", math.sqrt(2), math.sin(1), math.exp(1)))
out("inf", tostring(1e308 * 10) .. " " .. tostring(-1e308 * 10))
out("tointeger", tostring(math.tointeger(2^53)) .. " " .. tostring(math.tointeger(0.5)))

-- a closure-made generator in a coroutine: Fibonacci numbers
local fib = coroutine.wrap(function()
	local a, b = 0, 1
	while true do coroutine.yield(a); a, b = b, a + b end
end)
local f
for _ = 0, 90 do f = fib() end
out("fib90", f)

-- a table sorted: 1000 numbers from an LCG (x = (x * 1103515245 + 12345) % 2^31)
local x, t = 42, {}
for i = 1, 1000 do
	x = (x * 1103515245 + 12345) % 2147483648
	t[i] = x % 100000
end
table.sort(t)
local sum = 0
for _, v in ipairs(t) do sum = sum + v end
out("sorted", t[1] .. " " .. t[500] .. " " .. t[1000] .. " " .. sum)

-- strings: patterns, format, pack, utf8
local s = ("The quick brown fox jumps over the lazy dog"):gsub("%w+", function(w)
	return #w > 4 and w:upper() or nil
end)
out("gsub", s)
out("find", table.concat({ ("hello world"):find("o w") }, " "))
out("format", string.format("[%5d|%-5s|%05.1f|%x|%q]", 42, "ab", 3.14159, 255, "tab\t"))
out("pack", string.unpack("<i4", string.pack("<i4", -2)) .. " " .. #string.pack("<i8d", 1, 2))
out("utf8", utf8.len("h\u{e9}llo \u{2603}") .. " " .. utf8.char(72, 228, 8364))

-- errors: pcall, error objects, a runtime error's message
local okc, err = pcall(function() error({ code = 7 }) end)
out("pcall_table", tostring(okc) .. " " .. err.code)
okc, err = pcall(function() local n = nil; return n.field end)
out("pcall_index", tostring(okc) .. " " .. err:gsub("^.-:%d+: ", ""))
out("load", load("return 2 + 3 * 4")())

-- memory: many small tables through malloc/realloc/free, then a full collection
local peak
do
	local keep = {}
	for i = 1, 50000 do keep[i] = { i, tostring(i), { i } } end
	out("built", #keep .. " " .. keep[50000][2])
	peak = collectgarbage("count")
	keep = nil   -- a dead local's register is still scanned: clear it
end
collectgarbage("collect")
collectgarbage("collect")
out("collected", collectgarbage("count") < peak / 10)   -- KiB, Lua's own count

-- the operating system: files on the read-only volume, the clocks
local path = arg[1] or "/README.txt"
local fh = assert(io.open(path, "r"))
local first, lines = fh:read("l"), 1
for _ in fh:lines() do lines = lines + 1 end
fh:close()
out("first_line", first)
out("lines", lines)
out("remove", table.concat({ tostring(select(1, os.remove(path))), select(2, os.remove(path)),
	select(3, os.remove(path)) }, " | "))
out("open_w", select(2, io.open("/new.txt", "w")))
out("open_missing", select(2, io.open("/no/such/file")))
local c0 = os.clock()
repeat local y = 0; for i = 1, 100000 do y = y + i end until os.clock() - c0 >= 0.05
out("clock", "advanced")
out("time", math.type(os.time()))
out("getenv", tostring(os.getenv("LUA_CHECK")))
