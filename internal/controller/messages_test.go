package controller

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

func TestBoundedMessage(t *testing.T) {
	exact := strings.Repeat("a", maxConditionMessageLength)
	if got := boundedMessage(exact); got != exact {
		t.Errorf("a message of exactly the maximum was changed to %d bytes", len(got))
	}
	for _, long := range []string{strings.Repeat("a", 5000), strings.Repeat("é", 5000), strings.Repeat("日", 5000)} {
		got := boundedMessage(long)
		if len(got) > maxConditionMessageLength || !utf8.ValidString(got) || !strings.HasSuffix(got, truncationMark) {
			t.Errorf("boundedMessage gave %d bytes (valid UTF-8 %v, %q at the end), want at most %d, valid, marked as cut",
				len(got), utf8.ValidString(got), got[len(got)-8:], maxConditionMessageLength)
		}
	}
}

func TestConditionMessagesAreBounded(t *testing.T) {
	huge := syncOutcome{reason: identityv1alpha1.ReasonProviderUnavailable, message: strings.Repeat("upstream said ", 10000)}
	next := desiredStatus(&identityv1alpha1.OrgUserStatus{}, statusInput{
		generation: 1, now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), outcome: huge, refreshInterval: time.Hour,
	})
	for _, condType := range []string{identityv1alpha1.ConditionReady, identityv1alpha1.ConditionSynced} {
		c := meta.FindStatusCondition(next.Conditions, condType)
		if c == nil {
			t.Fatalf("no %s condition in %+v", condType, next.Conditions)
		}
		if len(c.Message) > maxConditionMessageLength {
			t.Errorf("%s message is %d bytes, want at most %d", condType, len(c.Message), maxConditionMessageLength)
		}
	}
}
