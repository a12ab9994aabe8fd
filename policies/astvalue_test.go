package policies

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// toValue must build exactly the document encoding/json + OPA's JSON reader
// build, or the sandbox would evaluate a different input than Spacelift's.
func TestToValueMatchesJSON(t *testing.T) {
	trigger1, _ := loadFixture[TriggerInput](t, "trigger/code_version_update")
	trigger2, _ := loadFixture[TriggerInput](t, "trigger/new_and_deleted_smart")
	push1, _ := loadFixture[PushInput](t, "push/branch_push")
	push2, _ := loadFixture[PushInput](t, "push/pr_synchronize")
	n := 3
	type omit struct {
		A string         `json:"a,omitempty"`
		B *int           `json:"b,omitempty"`
		C []string       `json:"c,omitempty"`
		D map[string]int `json:"d,omitempty"`
		E bool           `json:"e,omitempty"`
		F float64        `json:"f"`
		G uint8          `json:"g"`
		H Space          `json:"h,omitempty"`
		I any            `json:"i"`
		J []int          `json:"j"`
		K [2]int         `json:"k"`
		L string         `json:"-"`
		M int
		n int
	}
	cases := map[string]any{
		"trigger default sanitization": trigger1,
		"trigger smart sanitization":   trigger2,
		"push":                         push1,
		"pull request":                 push2,
		"zero trigger":                 TriggerInput{},
		"zero push":                    PushInput{},
		"bench":                        benchTriggerInput(20, 50),
		"bench, large":                 benchTriggerInput(6000, 6000),
		"omitempty empty":              omit{n: 1},
		"omitempty set":                omit{A: "a", B: &n, C: []string{"x"}, D: map[string]int{"k": 1}, E: true, F: 1.5e300, G: 7, I: []any{1.25, "s", nil}, J: []int{}, M: -4},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ast.ValueFromReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			got, err := toValue(in)
			if err != nil {
				t.Fatalf("toValue: %v", err)
			}
			if ast.Compare(got, want) != 0 {
				t.Errorf("toValue differs from JSON:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestToValueRejectsUnencodable(t *testing.T) {
	cases := map[string]any{
		"NaN":         map[string]any{"x": math.NaN()},
		"Inf":         []float64{math.Inf(1)},
		"channel":     map[string]any{"c": make(chan int)},
		"int map key": map[int]string{1: "a"},
		"bytes":       struct{ B []byte }{B: []byte("x")}, // base64 in JSON; no policy input has bytes
		"NaN deep in a large array": func() []any {
			xs := make([]any, 6000)
			for i := range xs {
				xs[i] = map[string]any{"n": float64(i)}
			}
			xs[len(xs)-7] = map[string]any{"n": math.NaN()}
			return xs
		}(),
	}
	for name, in := range cases {
		if v, err := toValue(in); err == nil {
			t.Errorf("%s: toValue = %v, want an error", name, v)
		}
	}
}
