package provider

import (
	"reflect"
	"testing"
	"time"
)

// Same must look at every field but Key: a field it missed would make a changed user look the same,
// and its OrgUser would show the change only at its own refresh.
func TestSameComparesEveryFieldButKey(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	later := at.Add(time.Second)
	base := User{ID: "1", Key: "alice", Email: "a@x", DisplayName: "A", Role: RoleMember, ProviderRole: "member",
		State: StateActive, CreatedAt: &at, UpdatedAt: &at, LastLoginAt: &at, DeletedAt: &at}

	if !base.Same(base) {
		t.Fatal("a user is not the same as itself")
	}
	other := base
	other.Key = ""
	if !base.Same(other) {
		t.Error("a user without Key (a GetUser answer) is not the same as the listed one")
	}
	sameInstant := at.In(time.FixedZone("elsewhere", 3600))
	other = base
	other.CreatedAt = &sameInstant
	if !base.Same(other) {
		t.Error("the same instant in another zone reads as a change")
	}

	fields := reflect.TypeFor[User]()
	for i := range fields.NumField() {
		name := fields.Field(i).Name
		if name == "Key" {
			continue
		}
		changed := base
		f := reflect.ValueOf(&changed).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "-changed")
		case reflect.Pointer:
			f.Set(reflect.ValueOf(&later))
		default:
			t.Fatalf("field %s of kind %s: teach this test (and Same) about it", name, f.Kind())
		}
		if base.Same(changed) {
			t.Errorf("a user whose %s changed is the same to Same", name)
		}
		unset := base
		reflect.ValueOf(&unset).Elem().Field(i).SetZero()
		if base.Same(unset) {
			t.Errorf("a user whose %s was cleared is the same to Same", name)
		}
	}
}
