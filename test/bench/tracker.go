package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
)

// userState is what the bench needs of one OrgUser.
type userState struct {
	readyOK     bool   // Ready=True for the current generation
	readyReason string // Ready's reason
	syncedOK    bool   // Synced=True for the current generation
	syncedSeen  bool   // Synced exists at all
	labeled     bool   // both the role and the state label are present
}

// tracker watches every OrgUser: it keeps each one's state and counts MODIFIED events (an update
// with a new resourceVersion; informer resyncs and relists with an unchanged object are not writes).
type tracker struct {
	mu       sync.Mutex
	users    map[types.NamespacedName]userState
	modified int
	// modifiedIn counts the MODIFIED events by namespace, for a scenario whose users share the
	// cluster with others.
	modifiedIn map[string]int
	// Set by beginWindow, filled until the next beginWindow: who was seen in which state.
	leftReady   map[types.NamespacedName]bool
	becameStale map[types.NamespacedName]bool
	syncedFalse map[types.NamespacedName]bool
}

func startTracker(ctx context.Context, e *env) (*tracker, error) {
	c, err := cache.New(e.restConfig, cache.Options{Scheme: e.scheme, DefaultTransform: cache.TransformStripManagedFields()})
	if err != nil {
		return nil, fmt.Errorf("build OrgUser cache: %w", err)
	}
	informer, err := c.GetInformer(ctx, &identityv1alpha1.OrgUser{})
	if err != nil {
		return nil, fmt.Errorf("get OrgUser informer: %w", err)
	}
	t := &tracker{users: map[types.NamespacedName]userState{}, modifiedIn: map[string]int{}}
	t.beginWindow()
	_, err = informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { t.observe(obj) },
		UpdateFunc: func(oldObj, newObj any) {
			oldUser, okOld := oldObj.(*identityv1alpha1.OrgUser)
			newUser, okNew := newObj.(*identityv1alpha1.OrgUser)
			if okOld && okNew && oldUser.ResourceVersion != newUser.ResourceVersion {
				t.mu.Lock()
				t.modified++
				t.modifiedIn[newUser.Namespace]++
				t.mu.Unlock()
			}
			t.observe(newObj)
		},
		DeleteFunc: func(obj any) {
			if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			if u, ok := obj.(*identityv1alpha1.OrgUser); ok {
				t.mu.Lock()
				delete(t.users, types.NamespacedName{Namespace: u.Namespace, Name: u.Name})
				t.mu.Unlock()
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watch OrgUsers: %w", err)
	}
	go func() { _ = c.Start(ctx) }()
	syncCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if !c.WaitForCacheSync(syncCtx) {
		return nil, fmt.Errorf("OrgUser watch did not sync")
	}
	return t, nil
}

func (t *tracker) observe(obj any) {
	u, ok := obj.(*identityv1alpha1.OrgUser)
	if !ok {
		return
	}
	var s userState
	if c := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionReady); c != nil && c.ObservedGeneration == u.Generation {
		s.readyOK = c.Status == metav1.ConditionTrue
		s.readyReason = c.Reason
	}
	if c := meta.FindStatusCondition(u.Status.Conditions, identityv1alpha1.ConditionSynced); c != nil {
		s.syncedSeen = true
		s.syncedOK = c.Status == metav1.ConditionTrue && c.ObservedGeneration == u.Generation
	}
	s.labeled = u.Labels[identityv1alpha1.LabelRole] != "" && u.Labels[identityv1alpha1.LabelState] != ""
	key := types.NamespacedName{Namespace: u.Namespace, Name: u.Name}
	t.mu.Lock()
	defer t.mu.Unlock()
	before := t.users[key]
	t.users[key] = s
	if before.readyOK && !s.readyOK {
		t.leftReady[key] = true
	}
	if s.readyReason == identityv1alpha1.ReasonStale {
		t.becameStale[key] = true
	}
	if s.syncedSeen && !s.syncedOK {
		t.syncedFalse[key] = true
	}
}

// beginWindow forgets who left Ready, went Stale or showed Synced=False so far.
func (t *tracker) beginWindow() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.leftReady = map[types.NamespacedName]bool{}
	t.becameStale = map[types.NamespacedName]bool{}
	t.syncedFalse = map[types.NamespacedName]bool{}
}

// userFilter selects a group of OrgUsers.
type userFilter func(types.NamespacedName) bool

func mainUsers(key types.NamespacedName) bool { return key.Namespace == benchNamespace }

func usersOf(provider string) userFilter {
	prefix := mainUserName(provider, 0)[:3]
	return func(key types.NamespacedName) bool {
		return key.Namespace == benchNamespace && strings.HasPrefix(key.Name, prefix)
	}
}

func sharedUsers(key types.NamespacedName) bool {
	return strings.HasPrefix(key.Namespace, sharedNamespacePrefix)
}

// population counts the selected OrgUsers by state, now and over the current window.
type population struct {
	total, ready, synced, stale         int
	readyLabeled                        int // Ready with the role and state labels
	leftReady, becameStale, syncedFalse int
}

func (t *tracker) count(filter userFilter) population {
	t.mu.Lock()
	defer t.mu.Unlock()
	var p population
	for key, s := range t.users {
		if !filter(key) {
			continue
		}
		p.total++
		if s.readyOK {
			p.ready++
			if s.labeled {
				p.readyLabeled++
			}
		}
		if s.syncedOK {
			p.synced++
		}
		if s.readyReason == identityv1alpha1.ReasonStale {
			p.stale++
		}
	}
	for key := range t.leftReady {
		if filter(key) {
			p.leftReady++
		}
	}
	for key := range t.becameStale {
		if filter(key) {
			p.becameStale++
		}
	}
	for key := range t.syncedFalse {
		if filter(key) {
			p.syncedFalse++
		}
	}
	return p
}

func (t *tracker) modifiedEvents() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.modified
}

// modifiedEventsIn is modifiedEvents for the OrgUsers of one namespace.
func (t *tracker) modifiedEventsIn(namespace string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.modifiedIn[namespace]
}

// waitFor polls until cond holds for the selected users or timeout passes; it reports whether cond
// held and the population last seen. The manager processes are checked on every poll.
func (t *tracker) waitFor(ctx context.Context, filter userFilter, timeout time.Duration, cond func(population) bool,
	procs ...*process) (bool, population, error) {
	deadline := time.Now().Add(timeout)
	for {
		p := t.count(filter)
		if cond(p) {
			return true, p, nil
		}
		for _, proc := range procs {
			if err := proc.alive(); err != nil {
				return false, p, err
			}
		}
		if time.Now().After(deadline) {
			return false, p, nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return false, p, err
		}
	}
}
