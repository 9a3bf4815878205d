package directory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/connection"
	"github.com/orgsync/orgsync/internal/provider"
)

// writers bounds the OrgUser writes one directory has in flight: a first listing of thousands of
// users is written in parallel, without taking every connection the API client has.
const writers = 8

// completeListing is a complete listing's users and the session that read them.
type completeListing struct {
	users []provider.User
	// renewed are the keys whose answer the listing filed is new (Remember).
	renewed []string
	session *connection.ListingSession
}

// applied is what writing a complete listing's plan came to.
type applied struct {
	result listingResult
	// nextPrune is when the earliest missing OrgUser may be pruned; 0 when none is waiting.
	nextPrune time.Duration
}

// apply writes a complete listing: creates the OrgUsers of new users, mends the owned ones edited by
// hand, prunes what pruneAfter allows, asks the owned OrgUsers whose answer is new to read at once
// (from the listing, filed as answers before this is called) and the missing users' OrgUsers too
// (from the upstream), and records what the next listing and the pruning between listings need.
// An OrgUser whose listed answer is what it was before reads it at its own refresh: asking all of
// them would make every listing a burst of one reconcile per user that changes nothing.
func (r *Reconciler) apply(ctx context.Context, d *identityv1alpha1.OrgDirectory, rec *directoryMemory, listing completeListing,
	validKey func(string) error, now time.Time) (applied, error) {
	users := listing.users
	existing := &identityv1alpha1.OrgUserList{}
	// Read only: every change is made on a copy.
	if err := r.List(ctx, existing, client.InNamespace(d.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return applied{}, fmt.Errorf("list OrgUsers in namespace %s: %w", d.Namespace, err)
	}
	template := d.Spec.UserTemplate.Metadata
	p := planListing(d, users, listing.renewed, existing.Items, droppedSince(rec.appliedTemplate, &template), validKey)
	// What an earlier listing said of the missing users must not answer the reads asked for them.
	missingKeys := make([]string, 0, len(p.missing))
	for _, u := range p.missing {
		missingKeys = append(missingKeys, u.Spec.Key)
	}
	listing.session.Forget(missingKeys)

	created, conflicts, err := r.createAll(ctx, d, p.create)
	if err != nil {
		return applied{}, err
	}
	if err := r.mendAll(ctx, p.mend); err != nil {
		return applied{}, err
	}
	stay, nextPrune, err := r.prune(ctx, d, rec, p.missing, now)
	if err != nil {
		return applied{}, err
	}
	missing := make(map[string]missingUser, len(stay))
	for _, u := range stay {
		missing[u.Name] = rec.missing[u.Name]
	}
	rec.missing = missing
	rec.appliedTemplate = template.DeepCopy()

	if err := r.requestReads(ctx, append(p.read, stay...)); err != nil {
		return applied{}, err
	}
	return applied{
		result: listingResult{
			listed: len(users), users: len(p.kept) + len(stay) + created, conflicts: p.conflicts + conflicts,
			unusableKeys: p.unusableKeys, duplicates: p.duplicateKeys,
		},
		nextPrune: nextPrune,
	}, nil
}

// createAll creates the OrgUsers of keys, a few at a time. An object of the same name that appeared
// since the cache was read is never touched: it counts as a conflict unless it is the directory's
// own.
func (r *Reconciler) createAll(ctx context.Context, d *identityv1alpha1.OrgDirectory,
	keys []string) (created, conflicts int, err error) {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(writers)
	for _, key := range keys {
		g.Go(func() error {
			u := desiredOrgUser(d, key)
			err := r.Create(gctx, u, client.FieldOwner(FieldOwner))
			mine := err == nil
			if apierrors.IsAlreadyExists(err) {
				if mine, err = r.ownedAlready(gctx, d, u); err != nil {
					return err
				}
			}
			if err != nil {
				return fmt.Errorf("create OrgUser %s: %w", klog.KObj(u), err)
			}
			mu.Lock()
			defer mu.Unlock()
			if mine {
				created++
			} else {
				conflicts++
			}
			return nil
		})
	}
	err = g.Wait()
	return created, conflicts, err
}

// ownedAlready reads an OrgUser that Create found taken from the API server (the cache had not seen
// it) and reports whether the directory controls it.
func (r *Reconciler) ownedAlready(ctx context.Context, d *identityv1alpha1.OrgDirectory, u *identityv1alpha1.OrgUser) (bool, error) {
	have := &identityv1alpha1.OrgUser{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(u), have); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil // deleted again meanwhile; the next listing creates it
		}
		return false, fmt.Errorf("get OrgUser %s: %w", klog.KObj(u), err)
	}
	return controlledBy(have, d), nil
}

// mendAll patches the owned OrgUsers edited by hand, each against the version the plan read: one
// changed meanwhile (409) or deleted is left to the next listing.
func (r *Reconciler) mendAll(ctx context.Context, mends []mendment) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(writers)
	for _, m := range mends {
		g.Go(func() error {
			patch := client.MergeFromWithOptions(m.from, client.MergeFromWithOptimisticLock{})
			err := r.Patch(gctx, m.to, patch, client.FieldOwner(FieldOwner))
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				ctrl.LoggerFrom(ctx).V(1).Info("OrgUser changed while it was mended; the next listing mends it", "orgUser", klog.KObj(m.to))
				return nil
			}
			if err != nil {
				return fmt.Errorf("put back the template's fields on OrgUser %s: %w", klog.KObj(m.to), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// prune deletes the missing OrgUsers that pruneDue allows, each only in the version that was judged
// (UID and resourceVersion preconditions: one that read its user again meanwhile stays), noting in
// rec what it saw of each. It returns the ones that stay and when the earliest of them may go.
func (r *Reconciler) prune(ctx context.Context, d *identityv1alpha1.OrgDirectory, rec *directoryMemory,
	missing []*identityv1alpha1.OrgUser, now time.Time) (stay []*identityv1alpha1.OrgUser, next time.Duration, err error) {
	if rec.missing == nil {
		rec.missing = map[string]missingUser{}
	}
	for _, u := range missing {
		seen := rec.missing[u.Name].observe(u, now)
		rec.missing[u.Name] = seen
		decision := pruneDue(u, d.Spec.PruneAfter, seen, now)
		if !decision.delete {
			stay = append(stay, u)
			if decision.wait > 0 && (next == 0 || decision.wait < next) {
				next = decision.wait
			}
			continue
		}
		uid, version := u.UID, u.ResourceVersion
		err := r.Delete(ctx, u.DeepCopy(), client.Preconditions{UID: &uid, ResourceVersion: &version})
		switch {
		case apierrors.IsNotFound(err):
		case apierrors.IsConflict(err):
			stay = append(stay, u) // changed since it was judged: judged again next time
		case err != nil:
			return nil, 0, fmt.Errorf("prune OrgUser %s: %w", klog.KObj(u), err)
		default:
			ready := notFoundSince(u)
			ctrl.LoggerFrom(ctx).Info("Pruned an OrgUser whose user the listing lacks and which read NotFound for pruneAfter",
				"orgUser", klog.KObj(u), "notFoundSince", ready, "pruneAfter", d.Spec.PruneAfter.Duration)
		}
	}
	return stay, next, nil
}

func notFoundSince(u *identityv1alpha1.OrgUser) metav1.Time {
	for _, c := range u.Status.Conditions {
		if c.Type == identityv1alpha1.ConditionReady {
			return c.LastTransitionTime
		}
	}
	return metav1.Time{}
}

// requestReads asks the OrgUser controller to read each user at once. A listed user's read is
// served from the listing; a missing user's goes upstream and shows what the upstream says.
func (r *Reconciler) requestReads(ctx context.Context, users []*identityv1alpha1.OrgUser) error {
	if r.ReadRequests == nil {
		return nil
	}
	for _, u := range users {
		read := &identityv1alpha1.OrgUser{ObjectMeta: metav1.ObjectMeta{Namespace: u.Namespace, Name: u.Name}}
		select {
		case r.ReadRequests <- event.GenericEvent{Object: read}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
