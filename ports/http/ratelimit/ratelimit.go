// Package ratelimit limits events per key (an e-mail address, a client
// address) in memory with token buckets (golang.org/x/time/rate).
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit allows Events per Per, in bursts of up to Events. A zero Limit
// allows everything.
type Limit struct {
	Events int
	Per    time.Duration
}

// Enabled tells whether the limit limits anything.
func (l Limit) Enabled() bool { return l.Events > 0 && l.Per > 0 }

// Keyed is a set of token buckets, one per key. Buckets idle long enough to
// be full again are forgotten, so memory follows the active keys only.
type Keyed struct {
	limit   Limit
	clock   func() time.Time
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	l    *rate.Limiter
	last time.Time
}

// NewKeyed builds a limiter; maxKeys (default 100,000) bounds memory: when
// it is reached and no bucket is idle, the oldest state is dropped.
func NewKeyed(limit Limit, clock func() time.Time, maxKeys int) *Keyed {
	if clock == nil {
		clock = time.Now
	}
	if maxKeys <= 0 {
		maxKeys = 100000
	}
	return &Keyed{limit: limit, clock: clock, maxKeys: maxKeys, buckets: map[string]*bucket{}}
}

// Reservation is a taken token that can be given back.
type Reservation struct {
	r   *rate.Reservation
	now time.Time
}

// Cancel gives the token back (when another limit refused the attempt).
func (r Reservation) Cancel() {
	if r.r != nil {
		r.r.CancelAt(r.now)
	}
}

// Take takes a token for key. When none is left it takes nothing and
// returns how long to wait.
func (k *Keyed) Take(key string) (res Reservation, retryAfter time.Duration, ok bool) {
	if !k.limit.Enabled() {
		return Reservation{}, 0, true
	}
	now := k.clock()
	k.mu.Lock()
	defer k.mu.Unlock()
	b, found := k.buckets[key]
	if !found {
		if len(k.buckets) >= k.maxKeys {
			k.sweep(now)
		}
		every := k.limit.Per / time.Duration(k.limit.Events)
		b = &bucket{l: rate.NewLimiter(rate.Every(every), k.limit.Events)}
		k.buckets[key] = b
	}
	b.last = now
	r := b.l.ReserveN(now, 1)
	if !r.OK() {
		return Reservation{}, k.limit.Per, false
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return Reservation{}, d, false
	}
	return Reservation{r: r, now: now}, 0, true
}

// sweep forgets buckets idle for a whole period (they are full again, so
// forgetting them changes nothing); if none is, it forgets everything.
func (k *Keyed) sweep(now time.Time) {
	for key, b := range k.buckets {
		if now.Sub(b.last) >= k.limit.Per {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) >= k.maxKeys {
		clear(k.buckets)
	}
}

// Len is the number of keys tracked.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
