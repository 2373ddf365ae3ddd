-- select.lua: keep, rename and require fields of JSON object payloads.
--
-- lua_config (every key is optional):
--   fields   list of field names to keep; the others are removed.
--            Default: keep every field.
--   rename   mapping of old name to new name, applied after `fields`.
--            Default: rename nothing.
--   require  list of field names an event must have; an event that lacks one of
--            them, or has it set to null, is dropped. Default: require nothing.
--
-- Every name refers to a top-level field of the incoming event, before renaming.
-- The order of operations is: require, then fields, then rename. Kept fields keep
-- their order. A renamed field takes the place of the incoming field of the same
-- name when there is one, and otherwise comes after the kept fields, in name order.
-- When a new name is also the name of a field that is kept and not renamed itself,
-- the renamed value replaces that field. Fields listed in `fields` but absent from
-- an event stay absent. A payload that is not a JSON object (an array, a number, text) passes
-- unchanged, unless `require` is set: then it is dropped, since it has no fields.

local config = livegate.config
local ARRAY = getmetatable(livegate.array())
local OBJECT = getmetatable(livegate.object())

local OPTIONS = {"fields", "rename", "require"}

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

-- Returns the list at lua_config[KEY] as a set of names, or nil when it is absent.
local function name_set(key)
  local value = config[key]
  if value == nil then
    return nil
  end
  if not is_list(value) or #value == 0 then
    config_error(key, "a non-empty list of field names", value)
  end
  local set = {}
  for i, name in ipairs(value) do
    if type(name) ~= "string" or name == "" then
      config_error(key .. "[" .. i .. "]", "a field name", name)
    end
    set[name] = true
  end
  return set
end

local function read_rename()
  local value = config.rename
  if value == nil then
    return nil
  end
  if type(value) ~= "table" or getmetatable(value) == ARRAY or (next(value) ~= nil and is_list(value)) then
    config_error("rename", "a mapping of old field names to new ones", value)
  end

  local olds = {}
  for old in pairs(value) do
    olds[#olds + 1] = old
  end
  table.sort(olds)

  local renames = {}
  local source_of = {}
  for _, old in ipairs(olds) do
    local new = value[old]
    if type(new) ~= "string" or new == "" then
      config_error("rename." .. old, "a new field name", new)
    end
    if source_of[new] ~= nil then
      error(string.format("invalid lua_config.rename: %q and %q both become %q; give each field its own name",
                          source_of[new], old, new), 0)
    end
    source_of[new] = old
    renames[#renames + 1] = {old = old, new = new}
  end
  return renames
end

check_options(OPTIONS)
local keep = name_set("fields")
local required = name_set("require")
local renames = read_rename()

local function is_object(data)
  return type(data) == "table" and getmetatable(data) == OBJECT
end

function on_event(event)
  local data = event.data

  if required ~= nil then
    if not is_object(data) then
      return nil
    end
    for name in pairs(required) do
      local value = data[name]
      if value == nil or value == livegate.null then
        return nil
      end
    end
  end

  if not is_object(data) or (keep == nil and renames == nil) then
    return event
  end

  if keep ~= nil then
    -- Assigning nil to an existing field during traversal is allowed by next().
    for name in pairs(data) do
      if not keep[name] then
        data[name] = nil
      end
    end
  end

  if renames ~= nil then
    -- Take every renamed value out first, so that chains such as a -> b, b -> c
    -- move the original values.
    local moved = {}
    for _, rename in ipairs(renames) do
      local value = data[rename.old]
      if value ~= nil then
        moved[rename.new] = value
        data[rename.old] = nil
      end
    end
    for name, value in pairs(moved) do
      data[name] = value
    end
  end
  return event
end
