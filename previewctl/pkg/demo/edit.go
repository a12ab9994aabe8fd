package demo

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
)

// Paths the demo's PRs change.
const (
	HandlerPath = "service/handler/handler.go"
	// DataGreetingPath is the greeting the data stack puts in the
	// environment's bucket, which the service reads at request time.
	DataGreetingPath = "infra/data/greeting.txt"
)

var greetingRE = regexp.MustCompile(`\b(DefaultGreeting\s*=\s*)"(?:[^"\\\n]|\\.)*"`)

// SetGreeting rewrites the handler source's DefaultGreeting constant, as a
// person would edit the service's message on a branch. The new text goes
// through strconv.Quote, so any string yields valid Go.
func SetGreeting(src []byte, greeting string) ([]byte, error) {
	locs := greetingRE.FindAllSubmatchIndex(src, -1)
	if len(locs) != 1 {
		return nil, fmt.Errorf("%s: want exactly one `DefaultGreeting = \"...\"` to edit, found %d", HandlerPath, len(locs))
	}
	l := locs[0]
	var out bytes.Buffer
	out.Write(src[:l[3]])
	out.WriteString(strconv.Quote(greeting))
	out.Write(src[l[1]:])
	return out.Bytes(), nil
}
