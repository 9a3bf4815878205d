package connection

import (
	"sync"
	"time"

	"github.com/orgsync/orgsync/internal/provider"
)

// answerKey names one user as read with one credential: the fingerprint covers the provider, baseURL,
// CA bundle, timeout, provider options and token. An answer is never served across fingerprints, so a
// request still in flight with a rotated token cannot answer for the new one when it lands.
type answerKey struct {
	fingerprint [32]byte
	key         string
}

// answerCache keeps answers that other callers of the same key may share, each only as long as some
// caller said it may use it (its Request.MaxAge); expired entries are swept, so memory follows the
// keys read within the last sharing window, not every key ever read.
type answerCache struct {
	mu      sync.Mutex
	entries map[answerKey]cachedAnswer
	sweptAt time.Time
}

type cachedAnswer struct {
	answer Answer
	// keepUntil is when no caller can use the answer any more.
	keepUntil time.Time
}

// get returns an answer read at most maxAge ago; a zero maxAge never matches.
func (c *answerCache) get(k answerKey, maxAge time.Duration, now time.Time) (Answer, bool) {
	if maxAge <= 0 {
		return Answer{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || now.Sub(e.answer.FetchedAt) > maxAge {
		return Answer{}, false
	}
	return e.answer, true
}

// put keeps a for keepFor after it was fetched.
func (c *answerCache) put(k answerKey, a Answer, keepFor time.Duration, now time.Time) {
	if keepFor <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[answerKey]cachedAnswer{}
	}
	c.entries[k] = cachedAnswer{answer: a, keepUntil: a.FetchedAt.Add(keepFor)}
	c.sweepLocked(now)
}

// putAll keeps each user with a key as an answer read with fingerprint at fetchedAt, for keepFor
// after fetchedAt, under one lock. It returns the keys whose answer is new: none was kept for the
// key (or it had expired), or it said something else of the user.
func (c *answerCache) putAll(fingerprint [32]byte, users []provider.User, fetchedAt time.Time, keepFor time.Duration,
	now time.Time) (renewed []string) {
	if keepFor <= 0 {
		return nil
	}
	keepUntil := fetchedAt.Add(keepFor)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[answerKey]cachedAnswer, len(users))
	}
	for _, user := range users {
		if user.Key == "" {
			continue
		}
		k := answerKey{fingerprint: fingerprint, key: user.Key}
		if before, ok := c.entries[k]; !ok || !now.Before(before.keepUntil) || !before.answer.User.Same(user) {
			renewed = append(renewed, user.Key)
		}
		c.entries[k] = cachedAnswer{answer: Answer{User: user, FetchedAt: fetchedAt}, keepUntil: keepUntil}
	}
	c.sweepLocked(now)
	return renewed
}

// drop forgets the answers for keys read with fingerprint.
func (c *answerCache) drop(fingerprint [32]byte, keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, key := range keys {
		delete(c.entries, answerKey{fingerprint: fingerprint, key: key})
	}
}

// dropOthers forgets every answer not read with fingerprint: after a credential change they can
// serve nobody.
func (c *answerCache) dropOthers(fingerprint [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if k.fingerprint != fingerprint {
			delete(c.entries, k)
		}
	}
}

func (c *answerCache) sweepLocked(now time.Time) {
	if now.Sub(c.sweptAt) < 10*time.Second {
		return
	}
	c.sweptAt = now
	for k, e := range c.entries {
		if now.After(e.keepUntil) {
			delete(c.entries, k)
		}
	}
}
