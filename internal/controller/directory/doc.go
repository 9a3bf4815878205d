// Package directory is the OrgDirectory controller: it lists a provider's users, page by page on
// the provider's turn queue, and keeps one OrgUser per listed user in the directory's namespace.
//
// A listing counts only when it is complete (provider.Listing decides); a failed or partial one
// creates, changes and deletes nothing. A complete listing's users are filed as answers in the
// provider's connection, so the OrgUsers' own reads (asked for after every listing) are served from
// it: N users cost about N / pageSize requests per listInterval. An OrgUser is deleted only when
// pruneAfter is set and it has itself read NotFound for that long.
//
// Files, one idea each: naming.go (the OrgUser name of a key), desired.go (the OrgUser a listed
// user asks for, and mending an owned one), plan.go (what a complete listing changes), prune.go
// (when an owned OrgUser may go), schedule.go (when to list), memory.go (the listing in progress
// and what the last complete one left), list.go (sending the pages), apply.go (writing the plan),
// status.go (the directory's status), reconciler.go and setup.go.
package directory
