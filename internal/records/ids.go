package records

import (
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/kohadb"
)

// intSet is an ordered set of ids.
type intSet struct {
	seen map[int64]bool
	list []int64
}

func newIntSet() *intSet { return &intSet{seen: map[int64]bool{}} }

func (s *intSet) len() int { return len(s.list) }

func (s *intSet) add(id int64) {
	if id <= 0 || s.seen[id] {
		return
	}
	s.seen[id] = true
	s.list = append(s.list, id)
}

func (s *intSet) addAll(ids []int64) {
	for _, id := range ids {
		s.add(id)
	}
}

func (s *intSet) addRow(r *kohadb.Row, column string) {
	if id, ok := r.Int(column); ok {
		s.add(id)
	}
}

// missing returns the ids that have no entry in found.
func (s *intSet) missing(found map[int64]*kohadb.Row) []int64 {
	var out []int64
	for _, id := range s.list {
		if found[id] == nil {
			out = append(out, id)
		}
	}
	return out
}

// rest returns the ids that have no entry in found, as a set.
func (s *intSet) rest(found map[int64]*kohadb.Row) *intSet {
	out := newIntSet()
	out.addAll(s.missing(found))
	return out
}

// textSet is an ordered, case-insensitive set of codes.
type textSet struct {
	seen map[string]bool
	list []string
}

func newTextSet() *textSet { return &textSet{seen: map[string]bool{}} }

func (s *textSet) add(code string) {
	key := strings.ToUpper(code)
	if code == "" || s.seen[key] {
		return
	}
	s.seen[key] = true
	s.list = append(s.list, code)
}

// batchIDs collects the ids of every table a batch reads.
type batchIDs struct {
	checkouts, holds                       *intSet
	items, biblios, biblioitems, borrowers *intSet
	branches, itemtypes, reasons           *textSet
}

func collectNoticeIDs(reqs []Request) *batchIDs {
	ids := &batchIDs{
		checkouts: newIntSet(), holds: newIntSet(),
		items: newIntSet(), biblios: newIntSet(), biblioitems: newIntSet(), borrowers: newIntSet(),
		branches: newTextSet(), itemtypes: newTextSet(), reasons: newTextSet(),
	}
	for _, req := range reqs {
		n := req.Notice
		ids.checkouts.addAll(n.Checkouts)
		ids.checkouts.addAll(n.OldCheckouts)
		ids.holds.addAll(n.Holds)
		ids.holds.addAll(n.OldHolds)
		ids.items.addAll(n.Items)
		ids.biblios.addAll(n.Biblios)
		ids.biblioitems.addAll(n.Biblioitems)
		ids.borrowers.addAll(n.Patrons)
		ids.borrowers.addRow(req.Message, "borrowernumber")
		for _, code := range n.Libraries {
			ids.branches.add(code)
		}
	}
	return ids
}
