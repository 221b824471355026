package retry

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultJitter is the jitter fraction used when Policy.Jitter is zero.
const DefaultJitter = 0.2

// MaxRetryAfter caps the Retry-After delay a receiver can request. A longer
// value, or an HTTP date far in the future, would otherwise park a notice
// beyond the whole retry schedule.
const MaxRetryAfter = 24 * time.Hour

// DefaultSchedule returns the delays used when Policy.Schedule is empty:
// 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h and 24h, so at most 10 attempts.
func DefaultSchedule() []time.Duration {
	return []time.Duration{
		5 * time.Second,
		5 * time.Minute,
		30 * time.Minute,
		2 * time.Hour,
		5 * time.Hour,
		10 * time.Hour,
		14 * time.Hour,
		20 * time.Hour,
		24 * time.Hour,
	}
}

// Policy decides when a failed delivery is tried again.
//
// After attempt n (1-based) has failed, attempt n+1 runs at
//
//	now + max(Schedule[n-1] × (1 + Jitter × (2r − 1)), min(retryAfter, MaxRetryAfter))
//
// where r is drawn uniformly from [0, 1), so the scheduled delay is spread
// over [1−Jitter, 1+Jitter) of its nominal value. When n reaches
// len(Schedule)+1 the retries are exhausted. With the default schedule and
// jitter of 0.2:
//
//	attempt 1 fails → next in 5s ± 20 % (4s to 6s)
//	attempt 2 fails → next in 5m ± 20 % (4m to 6m)
//	attempt 3 fails → next in 30m ± 20 %
//	attempt 4 fails → next in 2h ± 20 %
//	attempt 5 fails → next in 5h ± 20 %
//	attempt 6 fails → next in 10h ± 20 %
//	attempt 7 fails → next in 14h ± 20 %
//	attempt 8 fails → next in 20h ± 20 %
//	attempt 9 fails → next in 24h ± 20 %
//	attempt 10 fails → give up
//
// The schedule is an explicit list rather than base × factorⁿ because the
// useful delays do not follow one factor. The first retries come fast to
// ride out a dropped connection or a restarting receiver, and the later ones
// grow to hours so that an outage over a weekend is still covered. The
// default delays add up to 75h35m5s (about 3 days, between 60h28m and 90h42m
// with jitter) before a notice is marked failed. Jitter spreads the retries
// of notices that failed together, so a receiver coming back is not hit by
// the whole backlog at the same second.
//
// The zero Policy uses DefaultSchedule and DefaultJitter.
type Policy struct {
	// Schedule is the delay before attempt 2, 3, …, so len(Schedule)+1 is
	// the maximum number of attempts. An empty Schedule selects
	// DefaultSchedule. Every delay must be positive.
	Schedule []time.Duration

	// Jitter is the fraction by which a scheduled delay is randomly
	// shortened or lengthened. Zero selects DefaultJitter and a negative
	// value disables jitter. It must be below 1 so that no delay becomes
	// zero.
	Jitter float64

	// Rand returns a uniform random number in [0, 1). Nil selects
	// math/rand/v2's Float64. Tests set it to get fixed delays.
	Rand func() float64
}

// Validate returns an error when the schedule contains a delay that is not
// positive or when Jitter is not a number or is 1 or more.
func (p Policy) Validate() error {
	for i, d := range p.Schedule {
		if d <= 0 {
			return fmt.Errorf("retry schedule element %d (%s) must be positive", i+1, d)
		}
	}
	if math.IsNaN(p.Jitter) || p.Jitter >= 1 {
		return fmt.Errorf("retry jitter %v is invalid: it must be below 1", p.Jitter)
	}
	return nil
}

// MaxAttempts returns the number of attempts after which a notice is given
// up, the first one included.
func (p Policy) MaxAttempts() int {
	return len(p.schedule()) + 1
}

// Next returns the time at which the next attempt should run after attempt
// number attempt (1-based, the count of attempts made so far) has failed at
// now. A positive retryAfter, capped at MaxRetryAfter, can lengthen the
// delay but never shorten it. Next returns ok=false when attempt has reached
// MaxAttempts. An attempt below 1 is treated as 1.
func (p Policy) Next(now time.Time, attempt int, retryAfter time.Duration) (at time.Time, ok bool) {
	schedule := p.schedule()
	attempt = max(attempt, 1)
	if attempt > len(schedule) {
		return time.Time{}, false
	}

	delay := p.jittered(schedule[attempt-1])
	delay = max(delay, min(retryAfter, MaxRetryAfter))
	return now.Add(delay), true
}

func (p Policy) schedule() []time.Duration {
	if len(p.Schedule) == 0 {
		return DefaultSchedule()
	}
	return p.Schedule
}

// jittered returns d multiplied by a random factor in [1−J, 1+J).
func (p Policy) jittered(d time.Duration) time.Duration {
	jitter := p.Jitter
	switch {
	case jitter == 0:
		jitter = DefaultJitter
	case jitter < 0:
		return d
	}

	random := rand.Float64
	if p.Rand != nil {
		random = p.Rand
	}
	factor := 1 + jitter*(2*random()-1)
	scaled := time.Duration(float64(d) * factor)
	if scaled <= 0 {
		// Only a Jitter of 1 or more, which Validate rejects, or a Rand
		// outside [0, 1) gets here. The nominal delay is used then.
		return d
	}
	return scaled
}

// ParseSchedule parses a comma-separated list of Go durations such as
// "5s,5m,30m,2h". Spaces around elements are ignored. It returns an error
// naming the first element that is empty, malformed or not positive, and an
// error for an empty list.
func ParseSchedule(s string) ([]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("retry schedule is empty: give a comma-separated list of durations such as 5s,5m,30m")
	}

	parts := strings.Split(s, ",")
	schedule := make([]time.Duration, 0, len(parts))
	for i, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("retry schedule element %d is empty", i+1)
		}
		d, err := time.ParseDuration(part)
		if err != nil {
			return nil, fmt.Errorf("retry schedule element %d (%q) is not a duration such as 30s, 5m or 2h", i+1, part)
		}
		if d <= 0 {
			return nil, fmt.Errorf("retry schedule element %d (%q) must be positive", i+1, part)
		}
		schedule = append(schedule, d)
	}
	return schedule, nil
}
