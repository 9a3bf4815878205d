-- Actions Argo CD offers on an OrgUser.
local actions = {}
actions["refresh"] = {["disabled"] = false}
return actions
