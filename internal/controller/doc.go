// Package controller holds the orgsync reconcilers: OrgUser (mirrors one upstream user into status)
// and the two provider kinds (Ready condition, credential Secret polling). The status computation
// is pure and lives apart from the I/O, so every row of the contract's condition table is a unit test.
// The OrgDirectory controller lives in the directory subpackage, on the Connector and read requests
// that Setup shares (Shared).
package controller
