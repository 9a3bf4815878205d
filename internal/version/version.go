// Package version holds the build version, set with -ldflags at build time.
package version

// Version is the orgsync build version; "dev" for untagged builds.
var Version = "dev"

// UserAgent is sent to upstream APIs so their operators can tell who is calling.
func UserAgent() string { return "orgsync/" + Version }
