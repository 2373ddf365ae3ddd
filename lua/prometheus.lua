-- prometheus.lua: parse the Prometheus text exposition format (version 0.0.4) into
-- one event per sample.
--
-- lua_config (every key is optional):
--   include  list of metric name prefixes; only samples whose name starts with one
--            of them are kept. Default: keep every sample.
--   output   channel name, or template with {name} and {channel}, that receives
--            one event per sample, for example "metrics.{name}". Default: none,
--            and the samples replace the scrape in its own channel.
--   pass     with output only: true keeps the scrape text in its own channel as
--            well, false drops it. Default: false.
--
-- Input: the payload is the scrape text, for example the body of an HTTP poll of
-- node_exporter's /metrics, published as a raw (non-JSON) payload. A JSON string
-- payload is parsed the same way. Any other JSON payload fails the call, so the
-- rule's on_error decides what happens to the event.
--
-- Output: one event per sample, with the key NAME{LABEL="VALUE",...} (label names
-- sorted, values escaped as in the format; just NAME without labels) and the data
--   {name, labels, value, type, help}
-- labels is an object, empty without labels. value is a number, or one of the
-- strings "NaN", "+Inf" and "-Inf". type comes from the TYPE line of the metric's
-- family ("untyped" without one), and help from its HELP line (null without one).
-- The samples of a histogram or summary (NAME_bucket, NAME_sum, NAME_count) and
-- the NAME_total and NAME_created samples of OpenMetrics counters take the type and
-- help of NAME. A number too large for a double, such as 1e999, becomes "+Inf" or
-- "-Inf". A sample's timestamp, when it has one, becomes the
-- event's time; otherwise the scrape's time is kept. NOTE: livegate replaces an event
-- time of 0 or less with the current time, so a timestamp before 1970 is lost.
--
-- Without output, the samples are returned as a split: the first sample keeps the
-- scrape's id, and a scrape without samples is dropped. With output, each sample is
-- emitted into its channel.
--
-- Parsing: lines may end in LF or CRLF. HELP and TYPE lines are understood, other
-- lines starting with # are comments, blank lines are skipped. Label values may
-- contain the escapes \\, \" and \n; HELP text the escapes \\ and \n. A line that
-- cannot be parsed is skipped and logged at warn level with its line number.
--
-- Limits: one scrape is parsed in one call, so it must fit in the instruction
-- budget (server.lua.instruction_budget, 1000000 by default). About 280
-- instructions per sample were measured with a generated scrape of samples with
-- three labels each, so the default covers about 3500 such samples. Raise the
-- budget for larger scrapes, or filter with include (samples left out cost little).

local config = livegate.config
local ARRAY = getmetatable(livegate.array())

local OPTIONS = {"include", "output", "pass"}

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

local function is_list(value)
  if type(value) ~= "table" then
    return false
  end
  if getmetatable(value) == ARRAY then
    return true
  end
  local count = 0
  for _ in pairs(value) do
    count = count + 1
  end
  return count == #value
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

-- ---- settings ----

check_options(OPTIONS)

local include = nil
if config.include ~= nil then
  if not is_list(config.include) or #config.include == 0 then
    config_error("include", "a non-empty list of metric name prefixes", config.include)
  end
  include = {}
  for i, prefix in ipairs(config.include) do
    if type(prefix) ~= "string" or prefix == "" then
      config_error("include[" .. i .. "]", "a metric name prefix", prefix)
    end
    include[i] = prefix
  end
end

local output = read_template("output", {name = true, channel = true}, "metrics.{name}")
local pass = read_boolean("pass", false)
if config.pass ~= nil and output == nil then
  error("invalid lua_config.pass: it only applies together with lua_config.output", 0)
end

-- ---- parsing ----

-- Suffixes whose samples belong to the family named without them: those of
-- histograms and summaries, and the _total and _created of OpenMetrics counters.
local FAMILY_SUFFIXES = {"_bucket", "_sum", "_count", "_total", "_created"}

local SPECIAL_VALUES = {nan = "NaN", inf = "+Inf", ["+inf"] = "+Inf", ["-inf"] = "-Inf"}

local QUOTE = string.byte('"')
local COMMA = string.byte(",")
local OPENING_BRACE = string.byte("{")
local CLOSING_BRACE = string.byte("}")
local HASH = string.byte("#")
local CARRIAGE_RETURN = string.byte("\r")

local LABEL_ESCAPES = {["\\"] = "\\", ['"'] = '"', n = "\n"}
local HELP_ESCAPES = {["\\"] = "\\", n = "\n"}

-- Field order of sample payloads: a decoded object keeps its key order, and the
-- fields set on it later stay in place.
local SAMPLE_LAYOUT = '{"name":null,"labels":null,"value":null,"type":null,"help":null}'

local function unescape(text, escapes)
  return (text:gsub("\\(.)", function(c)
    return escapes[c] or "\\" .. c
  end))
end

local function escape_label_value(text)
  return (text:gsub('[\\"\n]', {["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n"}))
end

local function is_included(name)
  for _, prefix in ipairs(include) do
    if name:sub(1, #prefix) == prefix then
      return true
    end
  end
  return false
end

-- Returns the position of the quote that closes the label value starting at
-- POSITION in LINE, or nil: each backslash is skipped with the character it escapes.
local function find_closing_quote(line, position)
  while true do
    local found = line:find('[\\"]', position)
    if found == nil or line:byte(found) == QUOTE then
      return found
    end
    position = found + 2
  end
end

-- Parses the label set of LINE that starts after the "{" at POSITION. Returns the
-- labels (name to value), their parts of the event key (name to NAME="VALUE", value
-- escaped) and the position after the closing "}", or nil and a reason.
local function parse_labels(line, position)
  local labels = {}
  local key_parts = {}
  while true do
    -- Most values have no escapes and are read by one match; the others are
    -- scanned for their closing quote.
    local name, value, after = line:match('^[ \t]*([%a_][%w_]*)[ \t]*=[ \t]*"([^"\\]*)"[ \t]*()', position)
    local key_part
    if name ~= nil then
      key_part = name .. '="' .. value .. '"'
    else
      local closed = line:match("^[ \t]*}()", position)
      if closed ~= nil then
        return labels, key_parts, closed
      end
      local value_start
      name, value_start = line:match('^[ \t]*([%a_][%w_]*)[ \t]*=[ \t]*"()', position)
      if name == nil then
        return nil, "expected a label name, = and a quoted value at column " .. position
      end
      local value_end = find_closing_quote(line, value_start)
      if value_end == nil then
        return nil, string.format("the value of label %q has no closing quote", name)
      end
      value = unescape(line:sub(value_start, value_end - 1), LABEL_ESCAPES)
      key_part = name .. '="' .. escape_label_value(value) .. '"'
      after = line:match("^[ \t]*()", value_end + 1)
    end
    if labels[name] ~= nil then
      return nil, string.format("label %q appears twice", name)
    end
    labels[name] = value
    key_parts[name] = key_part

    local separator = line:byte(after)
    if separator == CLOSING_BRACE then
      return labels, key_parts, after + 1
    elseif separator ~= COMMA then
      return nil, string.format("expected , or } after the value of label %q", name)
    end
    position = after + 1
  end
end

local function parse_value(text)
  -- tonumber also reads hexadecimal, which Go's ParseFloat (the reference parser)
  -- reads as well; the format itself writes decimal numbers.
  local value = tonumber(text)
  if value == nil then
    return SPECIAL_VALUES[text:lower()]
  elseif value == math.huge then
    return "+Inf"
  elseif value == -math.huge then
    return "-Inf"
  end
  return value
end

-- Returns the event key of a sample: NAME{a="1",b="2"} with sorted label names, from
-- KEY_PARTS (label name to NAME="VALUE"), or just NAME without labels.
local function series_key(name, key_parts)
  if key_parts == nil then
    return name
  end
  local names = {}
  for label in pairs(key_parts) do
    names[#names + 1] = label
  end
  if #names == 0 then
    return name
  end
  table.sort(names)
  for i, label in ipairs(names) do
    names[i] = key_parts[label]
  end
  return name .. "{" .. table.concat(names, ",") .. "}"
end

-- Parses one sample line. Returns a sample {name, labels, key, value, time}, or nil
-- and a reason.
local function parse_sample(line)
  local name, position = line:match("^([%a_:][%w_:]*)()")
  if name == nil then
    return nil, "expected a metric name"
  end

  local labels = {}
  local key_parts = nil
  if line:byte(position) == OPENING_BRACE then
    labels, key_parts, position = parse_labels(line, position + 1)
    if labels == nil then
      return nil, key_parts
    end
  end

  local value_text, time_text = line:match("^[ \t]+(%S+)[ \t]*(%S*)[ \t]*$", position)
  if value_text == nil then
    return nil, "expected a value and an optional timestamp after the metric name and labels"
  end
  local value = parse_value(value_text)
  if value == nil then
    return nil, "invalid value " .. value_text
  end
  local time = nil
  if time_text ~= "" then
    time = time_text:match("^%-?%d+$") and math.tointeger(tonumber(time_text))
    if not time then
      return nil, "invalid timestamp " .. time_text
    end
  end
  return {name = name, labels = labels, key = series_key(name, key_parts), value = value, time = time}
end

-- Returns the family of sample NAME: the name itself when it has a TYPE or HELP
-- line, else the name without a histogram or summary suffix when that has one.
local function family_of(name, types, helps)
  if types[name] ~= nil or helps[name] ~= nil then
    return name
  end
  for _, suffix in ipairs(FAMILY_SUFFIXES) do
    if name:sub(-#suffix) == suffix then
      local base = name:sub(1, -#suffix - 1)
      if types[base] ~= nil or helps[base] ~= nil then
        return base
      end
    end
  end
  return name
end

-- Parses TEXT into a list of samples with their type and help.
local function parse_exposition(text, source)
  local samples = {}
  local types = {}
  local helps = {}
  local number = 0

  for line in text:gmatch("[^\n]*") do
    number = number + 1
    if line:byte(-1) == CARRIAGE_RETURN then
      line = line:sub(1, -2)
    end
    if line:byte(1) == HASH then
      local help_name, help_text = line:match("^#[ \t]+HELP[ \t]+(%S+)[ \t]?(.*)$")
      if help_name ~= nil then
        helps[help_name] = unescape(help_text, HELP_ESCAPES)
      else
        local type_name, type_text = line:match("^#[ \t]+TYPE[ \t]+(%S+)[ \t]+(%S+)[ \t]*$")
        if type_name ~= nil then
          types[type_name] = type_text
        end
      end
    elseif line:find("%S") and (include == nil or is_included(line:match("^[%a_:][%w_:]*") or "")) then
      local sample, reason = parse_sample(line)
      if sample == nil then
        livegate.log("warn", string.format("prometheus: %s line %d skipped: %s: %s", source, number, reason,
                                           line:sub(1, 200)))
      else
        samples[#samples + 1] = sample
      end
    end
  end

  -- HELP lines may come after samples, so families are looked up at the end.
  local families = {}
  for _, sample in ipairs(samples) do
    local name = sample.name
    local family = families[name]
    if family == nil then
      family = family_of(name, types, helps)
      families[name] = family
    end
    sample.type = types[family] or "untyped"
    sample.help = helps[family]
  end
  return samples
end

-- ---- events ----

local function sample_data(sample)
  local data = livegate.json_decode(SAMPLE_LAYOUT)
  data.name = sample.name
  data.labels = livegate.object(sample.labels)
  data.value = sample.value
  data.type = sample.type
  data.help = sample.help or livegate.null
  return data
end

local function emit_sample(event, sample, key, time)
  local channel = output:gsub("{(%w+)}", {name = sample.name, channel = event.channel})
  if #channel > 200 or channel:find(CHANNEL_BYTE_OUTSIDE) then
    livegate.log("warn", string.format("prometheus: output channel %q made from %q is not a valid channel " ..
                                       "name (at most 200 bytes); sample not sent", channel, output))
    return
  end
  -- A failed call publishes none of its samples, so one sample aimed back at the
  -- scrape's channel is skipped and logged rather than raised.
  if channel == event.channel then
    livegate.log("warn", string.format("prometheus: output channel %q of sample %s is the scrape's own " ..
                                       "channel; sample not sent (set lua_config.output to other channels)",
                                       channel, key))
    return
  end
  livegate.emit(channel, sample_data(sample), {key = key, time = time})
end

function on_event(event)
  local text = event.data
  if type(text) ~= "string" then
    local kind = "a JSON " .. type(text)
    if text == livegate.null then
      kind = "JSON null"
    elseif type(text) == "table" then
      kind = getmetatable(text) == ARRAY and "a JSON array" or "a JSON object"
    end
    error(string.format("prometheus: the payload is %s, not text in the Prometheus exposition format", kind))
  end

  local samples = parse_exposition(text, string.format("event %s of channel %q", event.id, event.channel))
  local events = {}
  for _, sample in ipairs(samples) do
    local key = sample.key
    local time = sample.time or event.time
    if output ~= nil then
      emit_sample(event, sample, key, time)
    else
      events[#events + 1] = {data = sample_data(sample), key = key, time = time}
    end
  end

  if output ~= nil then
    return pass and event or nil
  end
  if #events == 0 then
    return nil
  end
  return events
end
