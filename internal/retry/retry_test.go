package retry

import (
	"math"
	"strings"
	"testing"
	"time"
)

func fixedRand(r float64) func() float64 {
	return func() float64 { return r }
}

func TestNextDefaultSchedule(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	want := []time.Duration{
		5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
	}
	p := Policy{Rand: fixedRand(0.5)} // factor exactly 1

	if got := p.MaxAttempts(); got != 10 {
		t.Fatalf("MaxAttempts() = %d, want 10", got)
	}
	for i, delay := range want {
		attempt := i + 1
		at, ok := p.Next(now, attempt, 0)
		if !ok {
			t.Fatalf("Next(attempt %d) ok = false, want true", attempt)
		}
		if got := at.Sub(now); got != delay {
			t.Errorf("Next(attempt %d) delay = %s, want %s", attempt, got, delay)
		}
	}
	if _, ok := p.Next(now, 10, 0); ok {
		t.Error("Next(attempt 10) ok = true, want false")
	}
}

func TestNextJitterAndRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	schedule := []time.Duration{10 * time.Second, time.Minute}
	tests := []struct {
		name       string
		jitter     float64
		rand       float64
		attempt    int
		retryAfter time.Duration
		wantDelay  time.Duration
		wantOK     bool
	}{
		{"low end default jitter", 0, 0, 1, 0, 8 * time.Second, true},
		{"middle", 0, 0.5, 1, 0, 10 * time.Second, true},
		{"high end default jitter", 0, 0.75, 1, 0, 11 * time.Second, true},
		{"custom jitter", 0.5, 0, 2, 0, 30 * time.Second, true},
		{"jitter disabled", -1, 0, 2, 0, time.Minute, true},
		{"retry-after lengthens", 0, 0.5, 1, 45 * time.Second, 45 * time.Second, true},
		{"retry-after never shortens", 0, 0.5, 2, 5 * time.Second, time.Minute, true},
		{"retry-after capped", 0, 0.5, 1, 72 * time.Hour, MaxRetryAfter, true},
		{"attempt zero as one", 0, 0.5, 0, 0, 10 * time.Second, true},
		{"exhausted", 0, 0.5, 3, 0, 0, false},
		{"exhausted despite retry-after", 0, 0.5, 3, time.Hour, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := Policy{Schedule: schedule, Jitter: tc.jitter, Rand: fixedRand(tc.rand)}
			at, ok := p.Next(now, tc.attempt, tc.retryAfter)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				if !at.IsZero() {
					t.Errorf("at = %v, want zero time", at)
				}
				return
			}
			if got := at.Sub(now); got != tc.wantDelay {
				t.Errorf("delay = %s, want %s", got, tc.wantDelay)
			}
		})
	}
}

func TestNextRandomStaysInRange(t *testing.T) {
	t.Parallel()
	now := time.Now()
	p := Policy{}
	for range 1000 {
		at, ok := p.Next(now, 2, 0)
		if !ok {
			t.Fatal("ok = false, want true")
		}
		delay := at.Sub(now)
		if delay < 4*time.Minute || delay >= 6*time.Minute {
			t.Fatalf("delay = %s, want within [4m, 6m)", delay)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		input   string
		want    []time.Duration
		wantErr string
	}{
		{input: "5s", want: []time.Duration{5 * time.Second}},
		{input: "5s,5m,30m", want: []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute}},
		{input: " 1m30s , 2h ", want: []time.Duration{90 * time.Second, 2 * time.Hour}},
		{input: "", wantErr: "retry schedule is empty"},
		{input: "  ", wantErr: "retry schedule is empty"},
		{input: "5s,,5m", wantErr: "element 2 is empty"},
		{input: "5s,5m,", wantErr: "element 3 is empty"},
		{input: "5s,soon", wantErr: `element 2 ("soon") is not a duration`},
		{input: "5", wantErr: `element 1 ("5") is not a duration`},
		{input: "0s", wantErr: `element 1 ("0s") must be positive`},
		{input: "5s,-1m", wantErr: `element 2 ("-1m") must be positive`},
	}
	for _, tc := range tests {
		t.Run(tc.input, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSchedule(tc.input)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseSchedule(%q) = %v, want error containing %q", tc.input, got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSchedule(%q) error = %q, want it to contain %q", tc.input, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSchedule(%q) error = %v", tc.input, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ParseSchedule(%q) = %v, want %v", tc.input, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("ParseSchedule(%q)[%d] = %s, want %s", tc.input, i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		policy  Policy
		wantErr bool
	}{
		{"zero policy", Policy{}, false},
		{"custom", Policy{Schedule: []time.Duration{time.Second}, Jitter: 0.5}, false},
		{"jitter disabled", Policy{Jitter: -1}, false},
		{"zero delay", Policy{Schedule: []time.Duration{time.Second, 0}}, true},
		{"negative delay", Policy{Schedule: []time.Duration{-time.Second}}, true},
		{"jitter one", Policy{Jitter: 1}, true},
		{"jitter NaN", Policy{Jitter: math.NaN()}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.policy.Validate()
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("Validate() error = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestDefaultScheduleIsCopy(t *testing.T) {
	t.Parallel()
	s := DefaultSchedule()
	s[0] = time.Hour
	if got := DefaultSchedule()[0]; got != 5*time.Second {
		t.Fatalf("DefaultSchedule()[0] = %s after caller change, want 5s", got)
	}
}
