package directory

import (
	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

// plan is what one complete listing changes in the directory's namespace.
type plan struct {
	// create are the keys of listed users that have no OrgUser. Only keys: the objects are built as
	// they are written, so a first listing of thousands does not hold them all (and the API
	// server's answers to their creation) at once.
	create []string
	// mend are owned OrgUsers whose fields differ from what the directory asks: from is the object
	// as read, to the object to write.
	mend []mendment
	// kept are the owned OrgUsers of listed users, mended or not.
	kept []*identityv1alpha1.OrgUser
	// read are the kept OrgUsers whose listed answer is new: asked to read at once, they show it
	// now rather than at their own refresh.
	read []*identityv1alpha1.OrgUser
	// missing are the owned OrgUsers whose user the listing lacks: each is read at once, and may be
	// pruned once it has read NotFound for pruneAfter.
	missing []*identityv1alpha1.OrgUser
	// conflicts counts listed users whose OrgUser name is taken by an object the directory does not
	// control (or controls for another key, which it cannot change).
	conflicts int
	// unusableKeys counts listed users whose key no OrgUser can hold (empty, too long, control
	// characters), and duplicateKeys the users listed under a key another listed user has.
	unusableKeys, duplicateKeys int
}

type mendment struct {
	from, to *identityv1alpha1.OrgUser
}

// planListing compares a complete listing with the namespace's OrgUsers (existing, as the cache has
// them; they are not changed). renewed are the keys whose listed answer is new (Remember). validKey
// is the provider's key check. dropped are the template keys to remove from owned OrgUsers.
func planListing(d *identityv1alpha1.OrgDirectory, users []provider.User, renewed []string,
	existing []identityv1alpha1.OrgUser, dropped droppedKeys, validKey func(string) error) plan {
	isRenewed := make(map[string]bool, len(renewed))
	for _, k := range renewed {
		isRenewed[k] = true
	}
	byName := make(map[string]*identityv1alpha1.OrgUser, len(existing))
	for i := range existing {
		byName[existing[i].Name] = &existing[i]
	}
	// Every OrgUser of the directory has the same fields but its name and key: one desired object
	// (with no key) is what each existing one is compared with.
	shared := desiredOrgUser(d, "")
	var p plan
	listedNames := make(map[string]bool, len(users))
	for _, user := range users {
		if user.Key == "" || validKey(user.Key) != nil {
			p.unusableKeys++
			continue
		}
		name := OrgUserName(user.Key)
		if listedNames[name] {
			p.duplicateKeys++
			continue
		}
		listedNames[name] = true
		have, exists := byName[name]
		switch {
		case !exists:
			p.create = append(p.create, user.Key)
		case !controlledBy(have, d) || have.Spec.Key != user.Key:
			p.conflicts++
		case !have.DeletionTimestamp.IsZero():
			// Going away (deleted by hand): created again at the next listing.
		default:
			p.kept = append(p.kept, have)
			if isRenewed[user.Key] {
				p.read = append(p.read, have)
			}
			if to, changed := mend(have, shared, dropped); changed {
				p.mend = append(p.mend, mendment{from: have, to: to})
			}
		}
	}
	for i := range existing {
		have := &existing[i]
		if !listedNames[have.Name] && controlledBy(have, d) && have.DeletionTimestamp.IsZero() {
			p.missing = append(p.missing, have)
		}
	}
	return p
}
