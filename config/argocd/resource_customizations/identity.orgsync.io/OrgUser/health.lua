-- Argo CD health of an orgsync OrgUser (identity.orgsync.io/v1alpha1).
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

-- Suspended first: a suspended user is deliberately not kept in sync, whatever status last said.
if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: orgsync makes no upstream calls for this user"
  return hs
end

-- The API server defaults status.observedGeneration to 0, so a never-synced OrgUser lands here too.
local generation = obj.metadata.generation
if obj.status == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for orgsync to read this user (generation " .. tostring(generation) .. " not yet observed)"
  return hs
end

local ready = condition("Ready")
if ready == nil or ready.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition of generation " .. tostring(generation)
  return hs
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = "Role " .. tostring(obj.status.role) .. ", state " .. tostring(obj.status.state)
  return hs
end

-- Synced before, but the upstream has failed for longer than three refresh intervals.
if ready.reason == "Stale" then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end

-- Not synced yet and still retrying (ProviderUnavailable before the first success).
hs.status = "Progressing"
hs.message = describe(ready)
return hs
