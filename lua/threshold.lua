-- threshold.lua: raise and clear alerts when a numeric field crosses thresholds,
-- with hysteresis, per channel and event key.
--
-- lua_config:
--   field   name of the top-level numeric field of event.data to watch. Required.
--   high    number: an alert is raised when the value goes above it. Required.
--   low     number below high: a raised alert is cleared only when the value goes
--           below it. Required.
--   output  channel name, or template with {channel}, {key} and {field}, that
--           receives the alert events. Default: "alerts.{channel}".
--   pass    true lets the watched events through unchanged, false drops them.
--           Default: true.
--
-- Each channel and event key has its own state, which starts cleared: the first
-- value above `high` raises an alert, and only a value below `low` clears it again,
-- so a value that hovers around one threshold does not flap. Values equal to a
-- threshold change nothing. An event whose field is missing, null or not a number,
-- or whose payload is not a JSON object, passes (when `pass` is true) and leaves
-- the state as it was.
--
-- Alert event data, published with the event's key and time:
--   {state = "raised" or "cleared", value, field, key (null without a key),
--    source_channel, time}
-- The state lives in the script, so after a reload or restart every group starts
-- cleared again, and no "cleared" alert follows the alerts raised before.

local config = livegate.config
local ARRAY = getmetatable(livegate.array())

local OPTIONS = {"field", "high", "low", "output", "pass"}

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

local function read_required(key, expected, check)
  local value = config[key]
  if value == nil then
    error(string.format("missing lua_config.%s: set it to %s", key, expected), 0)
  end
  if not check(value) then
    config_error(key, expected, value)
  end
  return value
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
    livegate.log("warn", string.format("threshold: output channel %q made from %q is not a valid channel " ..
                                       "name (letters, digits and . _ : - @ /, at most 200 bytes); alert not sent",
                                       name, template))
    return nil
  end
  return name
end

-- ---- settings ----

local function is_name(value)
  return type(value) == "string" and value ~= ""
end

local function is_number(value)
  return type(value) == "number" and value == value and value > -math.huge and value < math.huge
end

check_options(OPTIONS)
local field = read_required("field", "the name of the numeric field to watch", is_name)
local high = read_required("high", "a number", is_number)
local low = read_required("low", "a number below lua_config.high", is_number)
if low >= high then
  error(string.format("invalid lua_config.low: expected a number below lua_config.high (%s), got %s",
                      tostring(high), tostring(low)), 0)
end
local output = read_template("output", {channel = true, key = true, field = true}, "alerts.{channel}")
local pass = read_boolean("pass", true)

-- ---- alerts ----

-- Channel and key of every group whose alert is raised; cleared groups are absent.
local raised = {}

-- Field order of alert payloads: a decoded object keeps its key order, and the
-- fields set on it later stay in place.
local ALERT_LAYOUT = '{"state":null,"value":null,"field":null,"key":null,"source_channel":null,"time":null}'

local function group_id(channel, key)
  if key == nil then
    return channel .. "\n"
  end
  return channel .. "\n=" .. key
end

local function send_alert(event, state, value)
  local channel = expand_channel(output, {channel = event.channel, key = event.key or "_", field = field})
  if channel == nil then
    return
  end
  if channel == event.channel then
    error(string.format("threshold: output channel %q is the watched channel; set lua_config.output to " ..
                        "another channel", channel))
  end

  local alert = livegate.json_decode(ALERT_LAYOUT)
  alert.state = state
  alert.value = value
  alert.field = field
  alert.key = event.key or livegate.null
  alert.source_channel = event.channel
  alert.time = event.time
  livegate.emit(channel, alert, {key = event.key, time = event.time})
end

function on_event(event)
  local data = event.data
  local value = type(data) == "table" and data[field] or nil

  if type(value) == "number" then
    local id = group_id(event.channel, event.key)
    if raised[id] == nil and value > high then
      send_alert(event, "raised", value)
      raised[id] = true
    elseif raised[id] ~= nil and value < low then
      send_alert(event, "cleared", value)
      raised[id] = nil
    end
  end

  if pass then
    return event
  end
  return nil
end
