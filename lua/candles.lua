-- candles.lua: OHLC candles from trade events, per channel and key, closed on time.
--
-- lua_config (every key is optional):
--   interval     candle length: milliseconds (a whole number, at least 10) or a
--                duration such as "500ms", "1s", "5m" or "1h". Default: 60s.
--   price_field  top-level field of event.data with the trade price. Default: "price".
--   size_field   top-level field of event.data with the trade size. Default: "size".
--   output       channel name, or template with {channel}, {key} and {interval},
--                that receives the candles. {interval} is written with the largest
--                unit that divides it: "1m", "90s", "500ms". An event without a key
--                puts "_" in place of {key}. Default: "candles.{channel}".
--   grace        how long a candle stays open after its end for trades that arrive
--                late: milliseconds or a duration. Default: 0.
--   pass         true lets the trades through unchanged, false drops them.
--                Default: true.
--
-- Candles: a trade belongs to the candle whose interval contains its time
-- (event.time). Intervals are aligned to the Unix epoch, so one-minute candles
-- start at whole minutes (UTC). A candle opens with its first trade, and closes
-- when the gateway's clock (livegate.now) reaches its end plus `grace`: a timer
-- (livegate.after) closes it then, whether or not another trade arrives. When the
-- first trade of a candle arrives after that moment, the candle closes 10 ms later,
-- the shortest timer. Candles of one channel and key are emitted in time order.
-- An interval without trades has no candle and emits nothing.
--
-- Candle event data, published with the key of the trades and the time of `end`:
--   {open, high, low, close, volume, trades, start, end}
-- open and close are the prices of the earliest and the latest trade by time (by
-- arrival between trades of the same time), volume the sum of sizes, trades the
-- count, start and end the interval bounds in milliseconds since the epoch.
--
-- Trades that are not counted pass all the same (with `pass`). A trade without a
-- numeric price, or with a size that is present but not a number, is skipped and
-- logged at debug level. A missing or null size counts as 0. A trade whose time
-- falls before the end of a candle already closed for its channel and key is late:
-- it is dropped from the candles, and logged at debug level with a running count.
--
-- State lives in the script: open candles are lost on a reload or restart. A small
-- record per channel and key stays for the life of the script, so that late trades
-- are known as late.

local config = livegate.config
local ARRAY = getmetatable(livegate.array())

local OPTIONS = {"interval", "price_field", "size_field", "output", "grace", "pass"}

-- Shortest delay of livegate.after.
local MIN_TIMER_MS = 10

-- ---- configuration checks (each script of the library carries its own copy) ----

local function describe(value)
  if value == livegate.null then
    return "null"
  elseif type(value) == "string" then
    return string.format("%q", value)
  elseif type(value) == "table" then
    return getmetatable(value) == ARRAY and "a list" or "a mapping"
  end
  return tostring(value)
end

local function config_error(key, expected, value)
  error(string.format("invalid lua_config.%s: expected %s, got %s", key, expected, describe(value)), 0)
end

-- Rejects a lua_config that is not a mapping or has a key outside KNOWN.
local function check_options(known)
  if type(config) ~= "table" or getmetatable(config) == ARRAY then
    error("invalid lua_config: expected a mapping of options (" .. table.concat(known, ", ") ..
          "), got " .. describe(config), 0)
  end
  local allowed = {}
  for _, name in ipairs(known) do
    allowed[name] = true
  end
  local unknown = {}
  for key in pairs(config) do
    if not allowed[key] then
      unknown[#unknown + 1] = tostring(key)
    end
  end
  if #unknown > 0 then
    table.sort(unknown)
    error(string.format("unknown lua_config.%s: the options of this script are %s", unknown[1],
                        table.concat(known, ", ")), 0)
  end
end

local function read_boolean(key, default)
  local value = config[key]
  if value == nil then
    return default
  end
  if type(value) ~= "boolean" then
    config_error(key, "true or false", value)
  end
  return value
end

local function read_name(key, default)
  local value = config[key]
  if value == nil then
    return default
  end
  if type(value) ~= "string" or value == "" then
    config_error(key, "a field name", value)
  end
  return value
end

local DURATION_UNITS = {ms = 1, s = 1000, m = 60 * 1000, h = 60 * 60 * 1000}
local DURATION_EXPECTED = "milliseconds or a duration such as \"500ms\", \"2s\", \"1.5m\" or \"1h\""

-- Returns lua_config[KEY] in milliseconds, DEFAULT when absent: an integer, or a
-- string of digits with an optional fraction and a unit (ms, s, m, h), the same
-- syntax as livegate's durations.
local function read_duration(key, default, minimum_ms)
  local value = config[key]
  local ms
  if value == nil then
    return default
  elseif math.type(value) == "integer" then
    ms = value
  elseif type(value) == "string" then
    local whole, fraction, unit = value:match("^(%d+)%.?(%d*)(%a+)$")
    local factor = DURATION_UNITS[unit or ""]
    local has_point = value:find(".", 1, true) ~= nil
    if factor == nil or #whole > 12 or #fraction > 9 or (has_point and fraction == "") then
      config_error(key, DURATION_EXPECTED, value)
    end
    local scale = 1
    for _ = 1, #fraction do
      scale = scale * 10
    end
    local fraction_ms = (#fraction > 0 and math.tointeger(fraction) or 0) * factor
    if fraction_ms % scale ~= 0 then
      config_error(key, "a whole number of milliseconds", value)
    end
    ms = math.tointeger(whole) * factor + fraction_ms // scale
  else
    config_error(key, DURATION_EXPECTED, value)
  end
  if ms < minimum_ms then
    config_error(key, "at least " .. minimum_ms .. " ms", value)
  end
  return ms
end

-- Writes MS with the largest unit that divides it, like livegate's own durations.
local function format_duration(ms)
  for _, unit in ipairs({{"h", 3600000}, {"m", 60000}, {"s", 1000}}) do
    if ms % unit[2] == 0 then
      return (ms // unit[2]) .. unit[1]
    end
  end
  return ms .. "ms"
end

local CHANNEL_BYTE_OUTSIDE = "[^A-Za-z0-9._:@/%-]"

-- Checks the channel template at lua_config[KEY]: only the PLACEHOLDERS (a set) may
-- appear in braces, and the rest must be valid in a channel name.
local function read_template(key, placeholders, default)
  local value = config[key]
  if value == nil then
    return default
  end
  if type(value) ~= "string" or value == "" then
    config_error(key, "a channel name or a template such as " .. string.format("%q", default), value)
  end
  for name in value:gmatch("{([^{}]*)}") do
    if not placeholders[name] then
      local names = {}
      for known in pairs(placeholders) do
        names[#names + 1] = "{" .. known .. "}"
      end
      table.sort(names)
      error(string.format("invalid lua_config.%s: unknown placeholder {%s} in %q; use %s", key, name, value,
                          table.concat(names, ", ")), 0)
    end
  end
  local static = value:gsub("{[^{}]*}", "")
  if static:find(CHANNEL_BYTE_OUTSIDE) then
    config_error(key, "letters, digits and . _ : - @ / around the placeholders", value)
  end
  return value
end

-- Returns the channel name made from TEMPLATE, or nil after logging why it is not a
-- valid channel name (an event key may contain bytes that channel names cannot).
local function expand_channel(template, values)
  local name = template:gsub("{(%w+)}", values)
  if #name > 200 or name:find(CHANNEL_BYTE_OUTSIDE) then
    livegate.log("warn", string.format("candles: output channel %q made from %q is not a valid channel name " ..
                                       "(letters, digits and . _ : - @ /, at most 200 bytes); no candles " ..
                                       "for these trades", name, template))
    return nil
  end
  return name
end

-- ---- settings ----

check_options(OPTIONS)
local interval_ms = read_duration("interval", 60 * 1000, MIN_TIMER_MS)
local grace_ms = read_duration("grace", 0, 0)
local price_field = read_name("price_field", "price")
local size_field = read_name("size_field", "size")
local output = read_template("output", {channel = true, key = true, interval = true}, "candles.{channel}")
local pass = read_boolean("pass", true)
local interval_text = format_duration(interval_ms)

-- ---- candles ----

-- Per channel and key: {channel, key, output (a channel name, or false when the
-- template gives an invalid name), open (open candles by start), closed_until}.
local series = {}

-- Candles to close by due time: a list of {series, start} per time, and one timer.
local closing = {}

local late_trades = 0

-- Field order of candle payloads: a decoded object keeps its key order, and the
-- fields set on it later stay in place.
local CANDLE_LAYOUT = '{"open":0,"high":0,"low":0,"close":0,"volume":0,"trades":0,"start":0,"end":0}'

local function series_of(event)
  local id = event.key == nil and event.channel .. "\n" or event.channel .. "\n=" .. event.key
  local found = series[id]
  if found ~= nil then
    return found
  end

  local name = expand_channel(output, {channel = event.channel, key = event.key or "_", interval = interval_text})
  if name == event.channel then
    error(string.format("candles: output channel %q is the trades' own channel; set lua_config.output to " ..
                        "another channel", name))
  end
  found = {channel = event.channel, key = event.key, output = name or false, open = {}, closed_until = nil}
  series[id] = found
  return found
end

local function emit_candle(state, candle)
  local data = livegate.json_decode(CANDLE_LAYOUT)
  data.open = candle.open
  data.high = candle.high
  data.low = candle.low
  data.close = candle.close
  data.volume = candle.volume
  data.trades = candle.trades
  data.start = candle.start
  data["end"] = candle.finish
  livegate.emit(state.output, data, {key = state.key, time = candle.finish})
end

-- Closes every open candle of STATE that starts at or before START, oldest first.
local function close_through(state, start)
  local starts = {}
  for open_start in pairs(state.open) do
    if open_start <= start then
      starts[#starts + 1] = open_start
    end
  end
  table.sort(starts)
  for _, open_start in ipairs(starts) do
    local candle = state.open[open_start]
    state.open[open_start] = nil
    emit_candle(state, candle)
    if state.closed_until == nil or candle.finish > state.closed_until then
      state.closed_until = candle.finish
    end
  end
end

local function close_due(due)
  local list = closing[due]
  closing[due] = nil
  for _, item in ipairs(list) do
    close_through(item.series, item.start)
  end
end

-- Arranges for the candle of STATE starting at START to close at DUE (on the
-- gateway's clock), sharing one timer with every candle due at the same time.
local function schedule_close(state, start, due)
  local list = closing[due]
  if list == nil then
    list = {}
    closing[due] = list
    local delay = due - livegate.now()
    livegate.after(delay < MIN_TIMER_MS and MIN_TIMER_MS or delay, function()
      close_due(due)
    end)
  end
  list[#list + 1] = {series = state, start = start}
end

local function add_trade(state, time, price, size)
  local start = time - time % interval_ms
  local candle = state.open[start]
  if candle == nil then
    candle = {start = start, finish = start + interval_ms, open = price, open_time = time, high = price,
              low = price, close = price, close_time = time, volume = size, trades = 1}
    state.open[start] = candle
    schedule_close(state, start, candle.finish + grace_ms)
    return
  end

  if time < candle.open_time then
    candle.open = price
    candle.open_time = time
  end
  if time >= candle.close_time then
    candle.close = price
    candle.close_time = time
  end
  if price > candle.high then
    candle.high = price
  end
  if price < candle.low then
    candle.low = price
  end
  candle.volume = candle.volume + size
  candle.trades = candle.trades + 1
end

local function is_number(value)
  return type(value) == "number" and value == value and value > -math.huge and value < math.huge
end

-- Counts the trade EVENT into its candle when it is valid and not late.
local function count_trade(event)
  local data = event.data
  if type(data) ~= "table" then
    livegate.log("debug", string.format("candles: event %s of channel %q is not a JSON object; not counted",
                                        event.id, event.channel))
    return
  end

  local price = data[price_field]
  local size = data[size_field]
  if size == nil or size == livegate.null then
    size = 0
  end
  if not is_number(price) or not is_number(size) then
    livegate.log("debug", string.format("candles: event %s of channel %q has no numeric %s or an invalid %s; " ..
                                        "not counted", event.id, event.channel, price_field, size_field))
    return
  end

  local state = series_of(event)
  if state.output == false then
    return
  end
  if state.closed_until ~= nil and event.time < state.closed_until then
    late_trades = late_trades + 1
    livegate.log("debug", string.format("candles: late trade %s of channel %q at %d, before the end of the " ..
                                        "closed candle at %d, dropped from the candles (%d late trades so far)",
                                        event.id, event.channel, event.time, state.closed_until, late_trades))
    return
  end
  add_trade(state, event.time, price, size)
end

function on_event(event)
  count_trade(event)
  if pass then
    return event
  end
  return nil
end
