package upstreamsim

import (
	"fmt"
	"time"
)

// bulkCreated is the creation time of every bulk user: fixed, so answers never change between reads.
var bulkCreated = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// BulkMixpeekKey is the email of the i-th Mixpeek user SeedBulk creates (0-based).
func BulkMixpeekKey(i int) string { return fmt.Sprintf("user-%d@bench.example", i) }

// BulkFlashbackKey is the id of the i-th Flashback user SeedBulk creates (0-based).
func BulkFlashbackKey(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// BulkSCIMKey is the userName of the i-th SCIM user SeedBulk creates (0-based); its id is
// BulkSCIMID(i).
func BulkSCIMKey(i int) string { return fmt.Sprintf("user-%d@scim.bench.example", i) }

// BulkSCIMID is the id of the i-th SCIM user SeedBulk creates (0-based).
func BulkSCIMID(i int) string { return fmt.Sprintf("00000000-0000-4000-9000-%012d", i) }

// SeedBulk creates n active Mixpeek members (BulkMixpeekKey), n validated Flashback users
// (BulkFlashbackKey) and n active SCIM users with the role "user" (BulkSCIMKey), for load tests.
// It registers no token.
func (s *Server) SeedBulk(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		email := BulkMixpeekKey(i)
		s.mixpeekUsers[email] = MixpeekUser{
			UserID: fmt.Sprintf("usr_bench%010d", i), Email: email, UserName: fmt.Sprintf("Bench User %d", i),
			Role: "member", Status: "active", InternalID: "int_bench", OrganizationID: "org_bench",
			CreatedAt: bulkCreated, UpdatedAt: bulkCreated,
		}
		id := BulkFlashbackKey(i)
		s.flashbackUsers[id] = FlashbackUser{
			ID: id, Email: fmt.Sprintf("user-%d@flashback.bench.example", i), Name: "Bench", LastName: fmt.Sprint(i),
			OrgID: demoFlashbackOrgID, OrgRole: FlashbackRoleUser, Validated: true, OrgRoles: []int{FlashbackRoleUser},
		}
		scimUserName := BulkSCIMKey(i)
		s.scim.put(SCIMUser{
			ID: BulkSCIMID(i), ExternalID: fmt.Sprintf("bench-ext-%d", i), UserName: scimUserName,
			DisplayName: fmt.Sprintf("Bench User %d", i), Emails: []SCIMEmail{{Value: scimUserName, Type: "work", Primary: true}},
			Active: true, Roles: []string{"user"}, Created: bulkCreated, LastModified: bulkCreated,
		})
	}
}
