-- throttle.lua: per-key sampling (one event in N) and rate limiting (at most one
-- event per interval, the newest winning).
--
-- lua_config (set every, interval or both):
--   every     keep the first of every N events of a key: a whole number, at least 1.
--             Default: 1 (keep every event).
--   interval  let at most one event of a key through per interval: milliseconds (a
--             whole number, at least 10) or a duration such as "500ms", "2s", "1.5m"
--             or "1h". Default: none (no rate limit).
--   output    channel name, or template with {channel} and {key}, that receives the
--             events kept. Default: none, and the channel itself is throttled.
--   pass      with output only: true keeps every event in its own channel as well,
--             false drops them there. Default: true.
--
-- Events are grouped by channel and event key; the events of a channel that have no
-- key form one group. With both every and interval, `every` picks the events first
-- and `interval` limits the picked ones.
--
-- Interval: the first event of a group passes at once and opens an interval. Events
-- that arrive inside it are held, each replacing the one held before (the last to
-- arrive wins, whatever its time). When the interval ends, the held event is
-- released and the next interval starts. An interval that ends with nothing held
-- closes the window, so the group's next event passes at once again. A released
-- event keeps its key, type, time and payload, but gets a new id, later than those
-- of the events dropped in favour of it.
--
-- Release: a timer (livegate.every, one per group with an open window) releases
-- the held event with livegate.emit. With `output`, it goes to the output channel.
-- Without `output`, it goes back into its own channel, so this script receives it
-- again. The script records every event it releases, and lets it through when it
-- comes back.
-- Released events come back right after the timer call that emitted them, before
-- any other event is published, so the script matches them by channel, key and time
-- alone.
--
-- State lives in the script: held events are lost on a reload or restart. A group
-- is forgotten when its window closes, unless `every` is above 1, in which case its
-- count stays for the life of the script.

local config = livegate.config
local ARRAY = getmetatable(livegate.array())

local OPTIONS = {"every", "interval", "output", "pass"}

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

local DURATION_UNITS = {ms = 1, s = 1000, m = 60 * 1000, h = 60 * 60 * 1000}
local DURATION_EXPECTED = "milliseconds or a duration such as \"500ms\", \"2s\", \"1.5m\" or \"1h\""

-- Returns lua_config[KEY] in milliseconds: an integer, or a string of digits with an
-- optional fraction and a unit (ms, s, m, h), the same syntax as livegate's durations.
local function read_duration(key, minimum_ms)
  local value = config[key]
  local ms
  if math.type(value) == "integer" then
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

local CHANNEL_BYTE_OUTSIDE = "[^A-Za-z0-9._:@/%-]"

-- Checks the channel template at lua_config[KEY]: only the PLACEHOLDERS (a set) may
-- appear in braces, and the rest must be valid in a channel name.
local function read_template(key, placeholders, example)
  local value = config[key]
  if value == nil then
    return nil
  end
  if type(value) ~= "string" or value == "" then
    config_error(key, "a channel name or a template such as " .. string.format("%q", example), value)
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
    livegate.log("warn", string.format("throttle: output channel %q made from %q is not a valid channel name " ..
                                       "(letters, digits and . _ : - @ /, at most 200 bytes); event not sent",
                                       name, template))
    return nil
  end
  return name
end

-- ---- settings ----

check_options(OPTIONS)

local every = config.every
if every == nil then
  every = 1
elseif math.type(every) ~= "integer" or every < 1 then
  config_error("every", "a whole number of at least 1", every)
end

local interval_ms = nil
if config.interval ~= nil then
  interval_ms = read_duration("interval", 10)
end

if every == 1 and interval_ms == nil then
  error("invalid lua_config: set every (keep one event in N) or interval (at most one event per interval), " ..
        "or both", 0)
end

local output = read_template("output", {channel = true, key = true}, "{channel}.throttled")
local pass = read_boolean("pass", true)
if config.pass ~= nil and output == nil then
  error("invalid lua_config.pass: it only applies together with lua_config.output", 0)
end

-- ---- state ----

-- Group state by group id: {channel, key, count, timer, held}.
local groups = {}

-- Events released into their own channel and not yet seen again, in emit order.
local returning = {}
local returning_next = 1

local function group_id(channel, key)
  if key == nil then
    return channel .. "\n"
  end
  return channel .. "\n=" .. key
end

-- Returns the payload to emit for EVENT so that it arrives as it came in.
local function payload_of(event)
  local data = event.data
  if type(data) ~= "string" then
    return data
  end
  -- livegate.emit sends a string as it is. A string that is valid JSON text cannot
  -- be a raw payload (raw payloads are the ones that are not JSON), so it came from
  -- a JSON string and is encoded again.
  if pcall(livegate.json_decode, data) then
    return livegate.json_encode(data)
  end
  -- Any other string is sent as raw text, although it may have come from a JSON
  -- string (event.data is the same Lua string for the raw payload `ab` and the JSON
  -- payload `"ab"`). Clients receive both as the same JSON string, and scripts
  -- downstream read the same Lua string.
  return data
end

local function send(event, channel)
  livegate.emit(channel, payload_of(event), {key = event.key, type = event.type, time = event.time})
end

local function output_channel(event)
  local name = expand_channel(output, {channel = event.channel, key = event.key or "_"})
  if name == event.channel then
    error(string.format("throttle: output channel %q is the event's own channel; set lua_config.output to " ..
                        "another channel, or leave it out to throttle the channel itself", name))
  end
  return name
end

local function release(group)
  local event = group.held
  group.held = nil
  if output ~= nil then
    local channel = output_channel(event)
    if channel ~= nil then
      send(event, channel)
    end
    return
  end
  returning[#returning + 1] = {channel = group.channel, key = event.key, time = event.time}
  send(event, group.channel)
end

local function end_interval(id, group)
  if group.held ~= nil then
    release(group)
    return
  end
  livegate.cancel(group.timer)
  group.timer = nil
  if every == 1 then
    groups[id] = nil
  end
end

-- Returns true when EVENT is one that this script released into its own channel.
local function is_returning(event)
  local expected = returning[returning_next]
  if expected == nil then
    return false
  end
  if expected.channel == event.channel and expected.key == event.key and expected.time == event.time then
    returning_next = returning_next + 1
    if returning[returning_next] == nil then
      returning = {}
      returning_next = 1
    end
    return true
  end
  -- Released events come back before anything else, so an unmatched entry is one
  -- that never came back (its publication failed): forget them all.
  returning = {}
  returning_next = 1
  return false
end

-- Returns true when EVENT is kept now, false when it is dropped or held.
local function admit(event)
  local id = group_id(event.channel, event.key)
  local group = groups[id]
  if group == nil then
    group = {channel = event.channel, key = event.key, count = 0}
    groups[id] = group
  end

  if every > 1 then
    group.count = group.count % every + 1
    if group.count ~= 1 then
      return false
    end
  end

  if interval_ms == nil then
    return true
  end
  if group.timer ~= nil then
    group.held = event
    return false
  end
  group.timer = livegate.every(interval_ms, function()
    end_interval(id, group)
  end)
  return true
end

function on_event(event)
  if output == nil then
    if is_returning(event) or admit(event) then
      return event
    end
    return nil
  end

  -- The output channel is checked before admit, so that an event that fails here
  -- leaves no state behind.
  local channel = output_channel(event)
  if admit(event) and channel ~= nil then
    send(event, channel)
  end
  return pass and event or nil
end
