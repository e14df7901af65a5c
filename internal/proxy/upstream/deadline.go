package upstream

import "time"

// Slack is how stale a deadline may get before it is pushed forward.
// Setting a deadline updates a runtime timer; doing it at most once a
// second per connection makes timeouts nearly free per request, at the
// price of firing up to one Slack early.
const Slack = time.Second

// Deadline pushes one direction's deadline of a connection forward lazily.
type Deadline struct {
	set time.Time
	d   time.Duration // the timeout last applied
}

// Extend makes sure the deadline is at least d minus a slack from now,
// calling set only when the last setting is older than the slack: Slack, or
// a quarter of d for timeouts shorter than four seconds.
func (dl *Deadline) Extend(now time.Time, d time.Duration, set func(time.Time) error) {
	// A different timeout (a pooled connection reused by another route)
	// applies at once; the same one only once the slack has passed.
	if d == dl.d && now.Sub(dl.set) < min(Slack, d/4) {
		return
	}
	dl.set, dl.d = now, d
	_ = set(now.Add(d))
}

// Reset forgets the last setting, after the deadline was changed by other
// means, so that the next Extend applies at once.
func (dl *Deadline) Reset() { dl.set = time.Time{} }
