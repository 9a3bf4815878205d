package controller

import (
	"testing"
	"time"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider"
)

func TestWarningEventsOncePerTransition(t *testing.T) {
	good := goodStatus()
	unauthorized := desiredStatus(&good, input(upstreamFailure(provider.KindUnauthorized, 401)))
	forbidden := desiredStatus(unauthorized, input(upstreamFailure(provider.KindForbidden, 403)))
	notFound := desiredStatus(&good, input(upstreamFailure(provider.KindNotFound, 404)))
	firstNotFound := desiredStatus(&identityv1alpha1.OrgUserStatus{}, input(upstreamFailure(provider.KindNotFound, 404)))
	stale := desiredStatus(&good, withLastSuccess(input(transientOutcome()), 4*statusRefresh))
	stillStale := desiredStatus(stale, withLastSuccess(input(transientOutcome()), 5*statusRefresh))
	tests := []struct {
		name       string
		prev, next *identityv1alpha1.OrgUserStatus
		want       string // the Warning reason, "" for none
	}{
		{"token revoked", &good, unauthorized, identityv1alpha1.ReasonUnauthorized},
		{"retry still unauthorized", unauthorized, desiredStatus(unauthorized, input(upstreamFailure(provider.KindUnauthorized, 401))), ""},
		{"unauthorized turns forbidden", unauthorized, forbidden, identityv1alpha1.ReasonForbidden},
		{"user deleted upstream", &good, notFound, identityv1alpha1.ReasonUserNotFound},
		{"first sync finds no user", &identityv1alpha1.OrgUserStatus{}, firstNotFound, identityv1alpha1.ReasonUserNotFound},
		{"retry still not found", notFound, desiredStatus(notFound, input(upstreamFailure(provider.KindNotFound, 404))), ""},
		{"upstream down too long", &good, stale, identityv1alpha1.ReasonStale},
		{"retry still stale", stale, stillStale, ""},
		{"transient failure keeps Ready", &good, desiredStatus(&good, withLastSuccess(input(transientOutcome()), time.Minute)), ""},
		{"first sync unavailable", &identityv1alpha1.OrgUserStatus{}, desiredStatus(&identityv1alpha1.OrgUserStatus{}, input(transientOutcome())), ""},
		{"invalid key is not warned", &identityv1alpha1.OrgUserStatus{}, desiredStatus(&identityv1alpha1.OrgUserStatus{}, input(upstreamFailure(provider.KindInvalidKey, 0))), ""},
		{"recovery is silent", unauthorized, desiredStatus(unauthorized, input(successOutcome(upstreamUser()))), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := warningEvents(tc.prev, tc.next)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Fatalf("warnings = %+v, want none", got)
			case tc.want != "" && (len(got) != 1 || got[0].reason != tc.want):
				t.Fatalf("warnings = %+v, want one %s", got, tc.want)
			case tc.want != "" && got[0].message == "":
				t.Errorf("warning %s has no message", tc.want)
			}
		})
	}
}
