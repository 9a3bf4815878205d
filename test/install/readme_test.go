package install

import (
	"regexp"
	"strings"
	"testing"
)

// managerRoles are the config/rbac roles bound to the manager's ServiceAccount.
var managerRoles = []string{"manager-role", "leader-election-role", "metrics-auth-role"}

// TestREADMEListsEveryManagerPermission: the README's "### Permissions" table names every
// (API group, resource, verb) the manager's roles grant, so a new marker cannot slip in unexplained.
func TestREADMEListsEveryManagerPermission(t *testing.T) {
	rows := permissionRows(t, string(readRepoFile(t, "README.md")))
	roles := configRoles(t)
	for _, name := range managerRoles {
		role, ok := roles[name]
		if !ok {
			t.Fatalf("config/rbac has no role %s", name)
		}
		for _, r := range rules(t, role) {
			for _, group := range r.apiGroups {
				for _, resource := range r.resources {
					for _, verb := range r.verbs {
						if !listed(rows, group, resource, verb) {
							t.Errorf("README's Permissions table does not explain %s: %s %q in group %q", name, verb, resource, group)
						}
					}
				}
			}
		}
	}
}

type permissionRow struct {
	groups, resources, verbs map[string]bool
}

var backticked = regexp.MustCompile("`([^`]*)`")

// permissionRows parses the table under "### Permissions": | Scope | API group | Resources | Verbs | Why |.
func permissionRows(t *testing.T, readme string) []permissionRow {
	t.Helper()
	_, section, found := strings.Cut(readme, "\n### Permissions\n")
	if !found {
		t.Fatal(`README.md has no "### Permissions" section`)
	}
	if end := strings.Index(section, "\n#"); end >= 0 {
		section = section[:end]
	}
	var rows []permissionRow
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "|") || len(cells) < 6 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		row := permissionRow{groups: map[string]bool{}, resources: map[string]bool{}, verbs: map[string]bool{}}
		for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
			row.groups[strings.Trim(m[1], `"`)] = true
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[3], -1) {
			row.resources[m[1]] = true
		}
		for _, verb := range strings.Split(cells[4], ",") {
			row.verbs[strings.TrimSpace(verb)] = true
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		t.Fatal("README.md's Permissions section has no table rows")
	}
	return rows
}

func listed(rows []permissionRow, group, resource, verb string) bool {
	for _, r := range rows {
		if r.groups[group] && r.resources[resource] && r.verbs[verb] {
			return true
		}
	}
	return false
}
