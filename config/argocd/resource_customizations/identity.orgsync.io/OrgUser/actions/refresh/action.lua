-- Ask orgsync to read this user from the upstream now: it handles the request once and echoes the
-- value into status.lastHandledReconcileAt. A new timestamp each time makes every click a new request.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["identity.orgsync.io/reconcile-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
