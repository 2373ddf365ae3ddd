-- moving_average.lua: add the moving average of a numeric field over the last N
-- samples, and its rate of change per second, to each event, per channel and key.
--
-- lua_config:
--   field          name of the top-level numeric field of event.data. Required.
--   window         number of samples averaged, the current one included: a whole
--                  number from 1 to 10000. Default: 10.
--   average_field  name of the field that receives the average, or false to leave
--                  the average out. Default: FIELD_average (for example
--                  load1_average).
--   rate_field     name of the field that receives the rate of change, or false to
--                  leave it out. Default: FIELD_rate.
--
-- The average is the arithmetic mean of the samples seen so far, at most `window`
-- of them, always as a float. The rate is (value - previous value) divided by the
-- time between the two events in seconds (from event.time). It is null for the
-- first sample of a key and for a sample whose time is not after the previous one.
-- A sample older than the previous one is averaged, but the next rate is still
-- taken against the newest sample.
--
-- An event whose field is missing, null or not a number, or whose payload is not a
-- JSON object, passes unchanged and is not counted. The samples live in the
-- script, so a reload or restart starts every average again.

local config = livegate.config
local ARRAY = getmetatable(livegate.array())

local OPTIONS = {"field", "window", "average_field", "rate_field"}

-- Largest window: the average is summed again over the whole window at each event,
-- and this keeps that well within the default instruction budget of one call.
local MAX_WINDOW = 10000

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

local function is_name(value)
  return type(value) == "string" and value ~= ""
end

-- Returns the field name at lua_config[KEY], DEFAULT when absent, or nil for false.
local function read_output_field(key, default)
  local value = config[key]
  if value == nil then
    return default
  end
  if value == false then
    return nil
  end
  if not is_name(value) then
    config_error(key, "a field name or false", value)
  end
  return value
end

-- ---- settings ----

check_options(OPTIONS)

local field = config.field
if field == nil then
  error("missing lua_config.field: set it to the name of the numeric field to average", 0)
end
if not is_name(field) then
  config_error("field", "a field name", field)
end

local window = config.window
if window == nil then
  window = 10
elseif math.type(window) ~= "integer" or window < 1 or window > MAX_WINDOW then
  config_error("window", "a whole number of samples from 1 to " .. MAX_WINDOW, window)
end

local average_field = read_output_field("average_field", field .. "_average")
local rate_field = read_output_field("rate_field", field .. "_rate")
if average_field == nil and rate_field == nil then
  error("invalid lua_config: average_field and rate_field are both false, so there is nothing to add", 0)
end
if average_field ~= nil and average_field == rate_field then
  error(string.format("invalid lua_config.rate_field: %q is also lua_config.average_field; give them " ..
                      "different names", rate_field), 0)
end

-- ---- averages ----

-- Per channel and key: {values (a ring of at most `window` samples), count, next,
-- last_time, last_value}.
local series = {}

local function series_id(channel, key)
  if key == nil then
    return channel .. "\n"
  end
  return channel .. "\n=" .. key
end

local function add_sample(state, value)
  state.values[state.next] = value
  state.next = state.next % window + 1
  if state.count < window then
    state.count = state.count + 1
  end

  local sum = 0
  for i = 1, state.count do
    sum = sum + state.values[i]
  end
  return sum / state.count
end

-- Returns the rate per second from the newest earlier sample to VALUE at TIME, or
-- null, and moves the newest sample forward.
local function take_rate(state, value, time)
  local rate = livegate.null
  if state.last_time ~= nil and time > state.last_time then
    rate = (value - state.last_value) * 1000 / (time - state.last_time)
  end
  if state.last_time == nil or time >= state.last_time then
    state.last_time = time
    state.last_value = value
  end
  return rate
end

function on_event(event)
  local data = event.data
  local value = type(data) == "table" and data[field] or nil
  if type(value) ~= "number" then
    return event
  end

  local id = series_id(event.channel, event.key)
  local state = series[id]
  if state == nil then
    state = {values = {}, count = 0, next = 1}
    series[id] = state
  end

  local average = add_sample(state, value)
  local rate = take_rate(state, value, event.time)
  if average_field ~= nil then
    data[average_field] = average
  end
  if rate_field ~= nil then
    data[rate_field] = rate
  end
  return event
end
