package tofurun

import (
	"cmp"
	"math"
	"regexp"
	"slices"
	"sync"

	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
)

// CompletionOrder records the order of tofu's "<address>: ... complete"
// lines, so the apply-phase changes can be reported in the order tofu
// completed them (a destructor before the variables its destroy needs).
// See is safe to call from tofu's output pipes.
type CompletionOrder struct {
	mu  sync.Mutex
	pos map[string]int
	n   int
}

var completeRE = regexp.MustCompile(`^(\S+): (Creation|Modifications|Destruction) complete`)

func (o *CompletionOrder) See(line string) {
	m := completeRE.FindStringSubmatch(line)
	if m == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pos == nil {
		o.pos = map[string]int{}
	}
	// A replacement completes twice; its last step is where it ended.
	o.n++
	o.pos[m[1]] = o.n
}

// Sort orders changes by completion; changes tofu did not report keep
// their plan order, after the others.
func (o *CompletionOrder) Sort(changes []store.Change) []store.Change {
	o.mu.Lock()
	defer o.mu.Unlock()
	rank := func(c store.Change) int {
		if p, ok := o.pos[c.Address]; ok {
			return p
		}
		return math.MaxInt
	}
	slices.SortStableFunc(changes, func(a, b store.Change) int { return cmp.Compare(rank(a), rank(b)) })
	return changes
}
