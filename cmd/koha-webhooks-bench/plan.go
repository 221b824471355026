package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// shape is one kind of webhook notice the benchmark queues.
type shape int

const (
	shapeHold     shape = iota // HOLD with "hold: ID"
	shapeCheckout              // CHECKOUT with "checkout: ID"
	shapeDigest                // DUEDGST with "checkouts: a, b, …"
	shapeCheckin               // CHECKIN with "old_checkouts: ID"
	shapeCancel                // HOLD_CANCELLATION with "old_hold: ID"
	shapeCount
)

var shapeNames = [shapeCount]string{"hold", "checkout", "digest", "checkin", "cancel"}

var shapeLetters = [shapeCount]string{"HOLD", "CHECKOUT", "DUEDGST", "CHECKIN", "HOLD_CANCELLATION"}

func (s shape) String() string { return shapeNames[s] }

// mix holds the relative weight of each shape.
type mix [shapeCount]int

// parseMix reads weights such as "hold=3,checkout=3,digest=2,checkin=1,cancel=1".
// Shapes left out get weight 0.
func parseMix(s string) (mix, error) {
	var m mix
	total := 0
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return m, fmt.Errorf("invalid -mix entry %q: use name=weight, e.g. hold=3", part)
		}
		sh, found := shapeByName(strings.TrimSpace(name))
		if !found {
			return m, fmt.Errorf("invalid -mix entry %q: the shape must be one of %s", part, strings.Join(shapeNames[:], ", "))
		}
		w, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || w < 0 {
			return m, fmt.Errorf("invalid -mix weight %q: use a whole number of 0 or more", part)
		}
		m[sh] = w
		total += w
	}
	if total == 0 {
		return m, fmt.Errorf("invalid -mix %q: at least one shape needs a weight above 0", s)
	}
	return m, nil
}

func shapeByName(name string) (shape, bool) {
	for i, n := range shapeNames {
		if n == name {
			return shape(i), true
		}
	}
	return 0, false
}

// counts splits n notices over the shapes in proportion to the weights,
// giving the remainder to the largest fractional parts so the counts sum
// to n exactly.
func (m mix) counts(n int) [shapeCount]int {
	total := 0
	for _, w := range m {
		total += w
	}
	var out [shapeCount]int
	type rest struct {
		s    shape
		frac int
	}
	var rests []rest
	assigned := 0
	for i, w := range m {
		out[i] = n * w / total
		assigned += out[i]
		rests = append(rests, rest{shape(i), n * w % total})
	}
	sort.SliceStable(rests, func(a, b int) bool { return rests[a].frac > rests[b].frac })
	for i := 0; assigned < n; i++ {
		if m[rests[i%len(rests)].s] == 0 {
			continue
		}
		out[rests[i%len(rests)].s]++
		assigned++
	}
	return out
}

// noticeSpec is one pending webhook notice: its shape, recipient and the
// record ids its content names.
type noticeSpec struct {
	shape    shape
	borrower int64
	ids      []int64
}

// plan is the generated library and queue. Every id is explicit, so the
// benchmark can tell which records each notice names without reading them
// back.
type plan struct {
	notices  int
	history  int
	patrons  int
	biblios  int
	items    int
	loans    int // issues rows, issue_id 1..loans, itemnumber = issue_id
	returned int // old_issues rows, issue_id loans+1..loans+returned
	holds    int // reserves rows, reserve_id 1..holds
	cancels  int // old_reserves rows, reserve_id holds+1..holds+cancels

	loanOwner []int64 // loanOwner[issue_id-1] is the borrowernumber
	queue     []noticeSpec
}

// planConfig holds the parameters a plan is built from.
type planConfig struct {
	notices, history     int
	mix                  mix
	digestMin, digestMax int
	seed                 uint64
}

// newPlan lays out the library. Patrons number notices/5 (at least 10).
// Each patron who gets a digest owns digestMin to digestMax loans, drawn per
// patron. Every other patron owns one loan, so that single checkout notices
// reach every patron.
func newPlan(c planConfig) *plan {
	rng := rand.New(rand.NewPCG(c.seed, 0x6b6f6861))
	counts := c.mix.counts(c.notices)
	p := &plan{notices: c.notices, history: c.history, patrons: max(c.notices/5, 10)}
	p.returned, p.holds, p.cancels = counts[shapeCheckin], counts[shapeHold], counts[shapeCancel]

	digestOwners := min(counts[shapeDigest], p.patrons)
	firstLoan := make([]int64, p.patrons+1)
	loansOf := make([]int, p.patrons+1)
	for b := 1; b <= p.patrons; b++ {
		loansOf[b] = 1
		if b <= digestOwners {
			loansOf[b] = c.digestMin + rng.IntN(c.digestMax-c.digestMin+1)
		}
		firstLoan[b] = int64(p.loans + 1)
		for range loansOf[b] {
			p.loanOwner = append(p.loanOwner, int64(b))
		}
		p.loans += loansOf[b]
	}
	p.items = max(p.loans, 100)
	p.biblios = max(p.items*2/3, 1)

	kinds := make([]shape, 0, c.notices)
	for s, n := range counts {
		for range n {
			kinds = append(kinds, shape(s))
		}
	}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })

	var next [shapeCount]int
	p.queue = make([]noticeSpec, len(kinds))
	for i, s := range kinds {
		j := next[s]
		next[s]++
		p.queue[i] = p.spec(s, j, digestOwners, firstLoan, loansOf, rng)
	}
	return p
}

// spec returns the j-th notice of shape s.
func (p *plan) spec(s shape, j, digestOwners int, firstLoan []int64, loansOf []int, rng *rand.Rand) noticeSpec {
	switch s {
	case shapeHold:
		return noticeSpec{s, p.holdOwner(j), []int64{int64(j + 1)}}
	case shapeCheckout:
		loan := int64(1 + rng.IntN(p.loans))
		return noticeSpec{s, p.loanOwner[loan-1], []int64{loan}}
	case shapeDigest:
		// With more digests than patrons, patrons get several digests of
		// the same loans, as a daily digest over several days would.
		owner := 1 + j%max(digestOwners, 1)
		ids := make([]int64, loansOf[owner])
		for k := range ids {
			ids[k] = firstLoan[owner] + int64(k)
		}
		return noticeSpec{s, int64(owner), ids}
	case shapeCheckin:
		return noticeSpec{s, p.returnedOwner(j), []int64{int64(p.loans + 1 + j)}}
	default:
		return noticeSpec{s, p.cancelOwner(j), []int64{int64(p.holds + 1 + j)}}
	}
}

// The owners of returned loans, holds and cancelled holds cycle through the
// patrons with different strides, so each patron has a mix of records.
func (p *plan) returnedOwner(j int) int64 { return int64(1 + j%p.patrons) }
func (p *plan) holdOwner(j int) int64     { return int64(1 + (j*3)%p.patrons) }
func (p *plan) cancelOwner(j int) int64   { return int64(1 + (j*7)%p.patrons) }

// content renders a notice's message_queue.content as a Koha template would.
func (n noticeSpec) content() string {
	var sb strings.Builder
	sb.WriteString("webhook: yes\n")
	switch n.shape {
	case shapeHold:
		sb.WriteString("hold: ")
	case shapeCheckout:
		sb.WriteString("checkout: ")
	case shapeDigest:
		sb.WriteString("checkouts: ")
	case shapeCheckin:
		sb.WriteString("old_checkouts: ")
	case shapeCancel:
		sb.WriteString("old_hold: ")
	}
	for i, id := range n.ids {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.FormatInt(id, 10))
	}
	sb.WriteByte('\n')
	return sb.String()
}
