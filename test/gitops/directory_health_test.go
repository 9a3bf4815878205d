package gitops

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/test/envsuite"
)

// directoryGeneration is the metadata.generation of the directories in the table below.
const directoryGeneration = 2

var listedAt = metav1.NewTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))

// directoryObject is an OrgDirectory as the API server serves it: converted from the Go type to the
// unstructured object Argo CD and kstatus read, so every field has the type's name and JSON shape,
// with the spec as the API server defaults it. status nil means no status at all.
func directoryObject(t *testing.T, status *identityv1alpha1.OrgDirectoryStatus) *unstructured.Unstructured {
	t.Helper()
	d := &identityv1alpha1.OrgDirectory{
		TypeMeta: metav1.TypeMeta{APIVersion: identityv1alpha1.GroupVersion.String(), Kind: identityv1alpha1.OrgDirectoryKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: "orgsync-identities", Name: "slack", Generation: directoryGeneration,
			UID: "7d0c3c52-5a3e-4e57-9d5e-0c1f5d0e2b61", CreationTimestamp: metav1.NewTime(listedAt.Add(-time.Hour))},
		Spec: identityv1alpha1.OrgDirectorySpec{
			ProviderRef:  identityv1alpha1.ProviderReference{Kind: identityv1alpha1.OrgProviderKind, Name: "slack"},
			Filter:       "active eq true",
			ListInterval: &metav1.Duration{Duration: time.Hour},
			PageSize:     100,
		},
	}
	if status != nil {
		d.Status = *status
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	envsuite.Must(t, err)
	obj := &unstructured.Unstructured{Object: content}
	if status == nil {
		unstructured.RemoveNestedField(obj.Object, "status")
	}
	return obj
}

// readyAt is a directory status whose every condition observed observed, with Ready as given.
func readyAt(observed int64, ready metav1.ConditionStatus, reason, message string, last *metav1.Time,
	listed, users, conflicts int32) *identityv1alpha1.OrgDirectoryStatus {
	return &identityv1alpha1.OrgDirectoryStatus{
		ObservedGeneration: observed, ListedUsers: listed, Users: users, Conflicts: conflicts, LastListedAt: last,
		Conditions: []metav1.Condition{{
			Type: identityv1alpha1.ConditionReady, Status: ready, Reason: reason, Message: message,
			ObservedGeneration: observed, LastTransitionTime: listedAt,
		}},
	}
}

func providerFailure(reason, message string) *identityv1alpha1.OrgDirectoryStatus {
	return readyAt(directoryGeneration, metav1.ConditionFalse, reason, message, nil, 0, 0, 0)
}

// Every shape of an OrgDirectory's status, as Argo CD (the shipped health.lua, run as Argo runs it)
// and kstatus (Flux's wait, cli-utils' generic rules) read it. The contract: Ready True (Listed) at
// the current generation is Healthy and Current; ListFailed is Degraded after a first listing
// (status.lastListedAt set) and Progressing before it; the other reasons of Ready False are Degraded;
// no status, or one behind the generation, is Progressing. kstatus has no Degraded: with no Stalled
// or Reconciling condition it reads Ready alone, so every Ready False is InProgress, never Failed.
func TestDirectoryHealthAndKstatus(t *testing.T) {
	t.Parallel()
	listed := func(listedUsers, users, conflicts int32) *identityv1alpha1.OrgDirectoryStatus {
		return readyAt(directoryGeneration, metav1.ConditionTrue, identityv1alpha1.ReasonListed, "Listed 4812 users", &listedAt,
			listedUsers, users, conflicts)
	}
	pageFailed := "Listing failed and changed nothing: read page 3 (startIndex 201): list users from scim: 500 Internal Server Error"

	cases := []struct {
		name string
		// status nil: none at all; default: what the CRD defaults a new object's status to.
		status      *identityv1alpha1.OrgDirectoryStatus
		crdDefault  bool
		wantHealth  string
		wantMessage string
		wantKstatus kstatus.Status
	}{
		{name: "just created: the CRD's default status {observedGeneration: 0}", crdDefault: true,
			wantHealth: "Progressing", wantMessage: "generation 2 not yet observed", wantKstatus: kstatus.InProgressStatus},
		{name: "no status at all (not as the API server serves one)",
			wantHealth: "Progressing", wantMessage: "generation 2 not yet observed",
			// Nothing for kstatus to compare or read: it assumes Current. The CRD's status default is
			// what makes a real new directory InProgress (row above).
			wantKstatus: kstatus.CurrentStatus},
		{name: "spec edited, the edit not yet observed",
			status:     readyAt(1, metav1.ConditionTrue, identityv1alpha1.ReasonListed, "Listed 4812 users", &listedAt, 4812, 4815, 0),
			wantHealth: "Progressing", wantMessage: "generation 2 not yet observed", wantKstatus: kstatus.InProgressStatus},
		{name: "status observed but Ready left at an older generation (the controller never writes this)",
			status: func() *identityv1alpha1.OrgDirectoryStatus {
				s := listed(4812, 4815, 0)
				s.Conditions[0].ObservedGeneration = 1
				return s
			}(),
			// kstatus compares status.observedGeneration only, not the condition's.
			wantHealth: "Progressing", wantMessage: "Ready condition of generation 2", wantKstatus: kstatus.CurrentStatus},
		{name: "observed, no Ready condition",
			status:     &identityv1alpha1.OrgDirectoryStatus{ObservedGeneration: directoryGeneration, Users: 3},
			wantHealth: "Progressing", wantMessage: "Ready condition of generation 2",
			// No condition kstatus knows: it assumes Current.
			wantKstatus: kstatus.CurrentStatus},
		{name: "Listed", status: listed(4812, 4815, 0),
			wantHealth: "Healthy", wantMessage: "4812 users listed, 4815 OrgUsers owned", wantKstatus: kstatus.CurrentStatus},
		{name: "Listed an empty organization (counts omitted as 0)", status: listed(0, 0, 0),
			wantHealth: "Healthy", wantMessage: "0 users listed, 0 OrgUsers owned", wantKstatus: kstatus.CurrentStatus},
		{name: "Listed with conflicts", status: listed(4812, 4809, 3),
			wantHealth:  "Healthy",
			wantMessage: "4812 users listed, 4809 OrgUsers owned, 3 conflicts (OrgUser names taken by objects this directory does not own)",
			wantKstatus: kstatus.CurrentStatus},
		{name: "ListFailed on the first listing", status: providerFailure(identityv1alpha1.ReasonListFailed, pageFailed),
			wantHealth: "Progressing", wantMessage: "ListFailed: " + pageFailed + " (no complete listing yet; retrying)",
			wantKstatus: kstatus.InProgressStatus},
		{name: "ListFailed, a partial first listing",
			status:     providerFailure(identityv1alpha1.ReasonListFailed, "Listing is partial and changed nothing: 180 distinct users of 200"),
			wantHealth: "Progressing", wantMessage: "(no complete listing yet; retrying)", wantKstatus: kstatus.InProgressStatus},
		{name: "ListFailed after a complete listing",
			status:      readyAt(directoryGeneration, metav1.ConditionFalse, identityv1alpha1.ReasonListFailed, pageFailed, &listedAt, 4812, 4815, 0),
			wantHealth:  "Degraded",
			wantMessage: "ListFailed: " + pageFailed + " (last complete listing at 2026-03-04T05:06:07Z, 4815 OrgUsers kept)",
			// No Stalled condition: kstatus takes Ready False for work in progress.
			wantKstatus: kstatus.InProgressStatus},
		{name: "ProviderCannotList",
			status: providerFailure(identityv1alpha1.ReasonProviderCannotList,
				"OrgProvider orgsync-identities/slack uses mixpeek, which cannot list its users; a directory needs a provider that can (scim)"),
			wantHealth: "Degraded", wantMessage: "ProviderCannotList: OrgProvider orgsync-identities/slack uses mixpeek",
			wantKstatus: kstatus.InProgressStatus},
		{name: "ProviderNotFound", status: providerFailure(identityv1alpha1.ReasonProviderNotFound, "OrgProvider orgsync-identities/slack not found"),
			wantHealth: "Degraded", wantMessage: "ProviderNotFound: OrgProvider orgsync-identities/slack not found", wantKstatus: kstatus.InProgressStatus},
		{name: "ProviderNotAllowed", status: providerFailure(identityv1alpha1.ReasonProviderNotAllowed,
			"ClusterOrgProvider slack does not admit namespace orgsync-identities: its namespaceSelector does not match the namespace's labels"),
			wantHealth: "Degraded", wantMessage: "ProviderNotAllowed: ClusterOrgProvider slack does not admit", wantKstatus: kstatus.InProgressStatus},
		{name: "SecretNotFound", status: providerFailure(identityv1alpha1.ReasonSecretNotFound, `Secret orgsync-identities/slack-token not found`),
			wantHealth: "Degraded", wantMessage: "SecretNotFound: Secret orgsync-identities/slack-token not found", wantKstatus: kstatus.InProgressStatus},
		{name: "ProviderInvalidConfig", status: providerFailure(identityv1alpha1.ReasonProviderInvalid,
			"Listing failed and changed nothing: read page 1 (startIndex 1): list users from scim: 400 Bad Request: invalidFilter: bad filter"),
			wantHealth: "Degraded", wantMessage: "ProviderInvalidConfig: Listing failed", wantKstatus: kstatus.InProgressStatus},
		{name: "Unauthorized after a complete listing (still Degraded, nothing about the listing added)",
			status: readyAt(directoryGeneration, metav1.ConditionFalse, identityv1alpha1.ReasonUnauthorized,
				"Listing failed and changed nothing: read page 1 (startIndex 1): list users from scim: 401 Unauthorized", &listedAt, 4812, 4815, 0),
			wantHealth:  "Degraded",
			wantMessage: "Unauthorized: Listing failed and changed nothing: read page 1 (startIndex 1): list users from scim: 401 Unauthorized",
			wantKstatus: kstatus.InProgressStatus},
		{name: "Forbidden", status: providerFailure(identityv1alpha1.ReasonForbidden,
			"Listing failed and changed nothing: read page 1 (startIndex 1): list users from scim: 403 Forbidden"),
			wantHealth: "Degraded", wantMessage: "Forbidden: Listing failed", wantKstatus: kstatus.InProgressStatus},
		{name: "Ready Unknown", status: readyAt(directoryGeneration, metav1.ConditionUnknown, "Listing", "", nil, 0, 0, 0),
			wantHealth: "Progressing", wantMessage: "Listing", wantKstatus: kstatus.InProgressStatus},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := directoryObject(t, tc.status)
			if tc.crdDefault {
				envsuite.Must(t, unstructured.SetNestedField(obj.Object, int64(0), "status", "observedGeneration"))
			}
			health, message := argoHealth(t, obj)
			if health != tc.wantHealth {
				t.Errorf("Argo CD health = %s (%s), want %s", health, message, tc.wantHealth)
			}
			requireContains(t, "Argo CD message", message, tc.wantMessage)
			if res := kstatusOf(t, obj); res.Status != tc.wantKstatus {
				t.Errorf("kstatus = %s (%s), want %s", res.Status, res.Message, tc.wantKstatus)
			}
		})
	}
}

// kstatus has only InProgress for every Ready False of a directory, terminal or not; Failed would
// take a Stalled=True condition, which the OrgDirectory contract does not have. This pins that
// reading, with the generation rule it shares with every object.
func TestDirectoryKstatusReadsReadyAndObservedGeneration(t *testing.T) {
	t.Parallel()
	obj := directoryObject(t, readyAt(1, metav1.ConditionTrue, identityv1alpha1.ReasonListed, "Listed 2 users", &listedAt, 2, 2, 0))
	res := kstatusOf(t, obj)
	if res.Status != kstatus.InProgressStatus || res.Message != "OrgDirectory generation is 2, but latest observed generation is 1" {
		t.Errorf("kstatus of a directory behind its generation = %s (%q)", res.Status, res.Message)
	}

	obj = directoryObject(t, providerFailure(identityv1alpha1.ReasonProviderCannotList, "cannot list"))
	res = kstatusOf(t, obj)
	if res.Status != kstatus.InProgressStatus || res.Message != "cannot list" {
		t.Errorf("kstatus of ProviderCannotList = %s (%q), want InProgress with Ready's message", res.Status, res.Message)
	}
	if len(res.Conditions) != 1 || res.Conditions[0].Type != kstatus.ConditionReconciling || res.Conditions[0].Reason != identityv1alpha1.ReasonProviderCannotList {
		t.Errorf("kstatus conditions of ProviderCannotList = %+v, want Reconciling with Ready's reason", res.Conditions)
	}

	// The same status with Stalled=True would read Failed: the one thing a Failed reading needs.
	stalled := providerFailure(identityv1alpha1.ReasonProviderCannotList, "cannot list")
	stalled.Conditions = append(stalled.Conditions, metav1.Condition{Type: identityv1alpha1.ConditionStalled, Status: metav1.ConditionTrue,
		Reason: identityv1alpha1.ReasonProviderCannotList, Message: "cannot list", ObservedGeneration: directoryGeneration, LastTransitionTime: listedAt})
	if res := kstatusOf(t, directoryObject(t, stalled)); res.Status != kstatus.FailedStatus {
		t.Errorf("kstatus with Stalled=True = %s (%q), want Failed", res.Status, res.Message)
	}
}
