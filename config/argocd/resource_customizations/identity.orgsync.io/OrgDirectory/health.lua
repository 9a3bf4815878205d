-- Argo CD health of an orgsync OrgDirectory (identity.orgsync.io/v1alpha1).
-- Argo runs this without the string library: only base, table and a safe os are loaded.
local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function describe(c)
  local message = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    message = message .. ": " .. c.message
  end
  return message
end

-- status counts are omitted when 0.
local function count(field)
  return tostring(obj.status[field] or 0)
end

-- The API server defaults status.observedGeneration to 0, so a directory never listed lands here too.
local generation = obj.metadata.generation
if obj.status == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for orgsync to list this directory (generation " .. tostring(generation) .. " not yet observed)"
  return hs
end

local ready = condition("Ready")
if ready == nil or ready.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition of generation " .. tostring(generation)
  return hs
end

-- Listed: the last listing was complete and applied.
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = count("listedUsers") .. " users listed, " .. count("users") .. " OrgUsers owned"
  if obj.status.conflicts ~= nil and obj.status.conflicts > 0 then
    hs.message = hs.message .. ", " .. count("conflicts") ..
      " conflicts (OrgUser names taken by objects this directory does not own)"
  end
  return hs
end

if ready.status == "False" and ready.reason == "ListFailed" then
  -- A failed or partial listing changes nothing, and orgsync retries it with backoff.
  if obj.status.lastListedAt == nil or obj.status.lastListedAt == "" then
    -- Never listed completely: nothing is lost yet, the first listing is still being tried.
    hs.status = "Progressing"
    hs.message = describe(ready) .. " (no complete listing yet; retrying)"
    return hs
  end
  -- Listed before: its OrgUsers stay, but the directory no longer follows the organization.
  hs.status = "Degraded"
  hs.message = describe(ready) .. " (last complete listing at " .. tostring(obj.status.lastListedAt) ..
    ", " .. count("users") .. " OrgUsers kept)"
  return hs
end

-- Every other reason (ProviderCannotList, ProviderNotFound, ProviderNotAllowed, SecretNotFound,
-- ProviderInvalidConfig, Unauthorized, Forbidden) needs someone to fix the provider or the spec.
if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end

-- Ready Unknown: not decided yet.
hs.status = "Progressing"
hs.message = describe(ready)
return hs
