package awsprovider

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The resources work on the protocol's raw values (tftypes) through obj
// rather than on one typed Go model per resource: sixteen resources declare
// some 250 attributes, most of which the sandbox only stores, and a typed
// model would restate each of them a second time. The schema stays the one
// statement of every attribute; obj reads and writes the few a resource acts
// on, and leaves the rest as planned.

// obj is a known, non-null object value (a resource's or a block's).
type obj struct {
	t tftypes.Object
	v map[string]tftypes.Value
}

func newObj(val tftypes.Value) (*obj, error) {
	if val.IsNull() || !val.IsKnown() {
		return nil, fmt.Errorf("object value is null or unknown")
	}
	t, ok := val.Type().(tftypes.Object)
	if !ok {
		return nil, fmt.Errorf("value of type %s is not an object", val.Type())
	}
	m := map[string]tftypes.Value{}
	if err := val.As(&m); err != nil {
		return nil, err
	}
	return &obj{t: t, v: m}, nil
}

// objOrNil is newObj for a value that may be null (no prior state, destroy).
func objOrNil(val tftypes.Value) *obj {
	if val.IsNull() || !val.IsKnown() {
		return nil
	}
	o, err := newObj(val)
	if err != nil {
		return nil
	}
	return o
}

func (o *obj) raw() tftypes.Value { return tftypes.NewValue(o.t, o.v) }

// known reports whether k's value is known (it may be null).
func (o *obj) known(k string) bool { return o.v[k].IsKnown() }

// isNull reports whether k is null (an unknown value is not null).
func (o *obj) isNull(k string) bool { return o.v[k].IsKnown() && o.v[k].IsNull() }

// has reports whether k is known and not null.
func (o *obj) has(k string) bool { return o.v[k].IsKnown() && !o.v[k].IsNull() }

func (o *obj) str(k string) string {
	var s string
	if o.has(k) {
		o.v[k].As(&s)
	}
	return s
}

func (o *obj) boolean(k string) bool {
	var b bool
	if o.has(k) {
		o.v[k].As(&b)
	}
	return b
}

func (o *obj) int(k string) (int64, bool) {
	if !o.has(k) {
		return 0, false
	}
	var f big.Float
	if err := o.v[k].As(&f); err != nil {
		return 0, false
	}
	n, _ := f.Int64()
	return n, true
}

func (o *obj) number(k string) (float64, bool) {
	if !o.has(k) {
		return 0, false
	}
	var f big.Float
	if err := o.v[k].As(&f); err != nil {
		return 0, false
	}
	x, _ := f.Float64()
	return x, true
}

func (o *obj) strMap(k string) map[string]string {
	if !o.has(k) {
		return nil
	}
	var m map[string]tftypes.Value
	if err := o.v[k].As(&m); err != nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for mk, mv := range m {
		var s string
		mv.As(&s)
		out[mk] = s
	}
	return out
}

// strList reads a list or set of strings (a set in no particular order).
func (o *obj) strList(k string) []string {
	if !o.has(k) {
		return nil
	}
	var vs []tftypes.Value
	if err := o.v[k].As(&vs); err != nil {
		return nil
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		var s string
		v.As(&s)
		out = append(out, s)
	}
	return out
}

// blocks returns a list or set block's elements (or a single block's one).
func (o *obj) blocks(k string) []*obj {
	val := o.v[k]
	if !val.IsKnown() || val.IsNull() {
		return nil
	}
	if _, single := val.Type().(tftypes.Object); single {
		if b := objOrNil(val); b != nil {
			return []*obj{b}
		}
		return nil
	}
	var vs []tftypes.Value
	if err := val.As(&vs); err != nil {
		return nil
	}
	var out []*obj
	for _, v := range vs {
		if b := objOrNil(v); b != nil {
			out = append(out, b)
		}
	}
	return out
}

// block is a max-one block's element, or nil.
func (o *obj) block(k string) *obj {
	if bs := o.blocks(k); len(bs) > 0 {
		return bs[0]
	}
	return nil
}

// set stores a Go value as k's value, converted to k's schema type.
func (o *obj) set(k string, v any) {
	t, ok := o.t.AttributeTypes[k]
	if !ok {
		panic("awsprovider: no attribute " + k)
	}
	o.v[k] = toValue(t, v)
}

// setIfUnknown sets k only when the plan left it unknown (a computed
// attribute without a value yet), so that known planned values stay exactly
// what the plan promised.
func (o *obj) setIfUnknown(k string, v any) {
	if !o.known(k) {
		o.set(k, v)
	}
}

// setDefault sets k when it is unknown or null.
func (o *obj) setDefault(k string, v any) {
	if !o.has(k) {
		o.set(k, v)
	}
}

func (o *obj) unknown(k string) {
	o.v[k] = tftypes.NewValue(o.t.AttributeTypes[k], tftypes.UnknownValue)
}

// toValue converts Go values (string, bool, ints, float64, []string,
// map[string]string, map[string]any for objects, []map[string]any for
// lists/sets of objects, tftypes.Value, nil for null) to typ.
func toValue(typ tftypes.Type, v any) tftypes.Value {
	if tv, ok := v.(tftypes.Value); ok {
		return tv
	}
	if v == nil {
		return tftypes.NewValue(typ, nil)
	}
	switch t := typ.(type) {
	case tftypes.List, tftypes.Set:
		var elem tftypes.Type
		if l, ok := t.(tftypes.List); ok {
			elem = l.ElementType
		} else {
			elem = t.(tftypes.Set).ElementType
		}
		var vals []tftypes.Value
		switch x := v.(type) {
		case []string:
			for _, s := range x {
				vals = append(vals, toValue(elem, s))
			}
		case []map[string]any:
			for _, m := range x {
				vals = append(vals, toValue(elem, m))
			}
		case []any:
			for _, e := range x {
				vals = append(vals, toValue(elem, e))
			}
		default:
			panic(fmt.Sprintf("awsprovider: %T for %s", v, typ))
		}
		if vals == nil {
			vals = []tftypes.Value{}
		}
		return tftypes.NewValue(typ, vals)
	case tftypes.Map:
		vals := map[string]tftypes.Value{}
		switch x := v.(type) {
		case map[string]string:
			for k, s := range x {
				vals[k] = toValue(t.ElementType, s)
			}
		case map[string]bool:
			for k, b := range x {
				vals[k] = toValue(t.ElementType, b)
			}
		default:
			panic(fmt.Sprintf("awsprovider: %T for %s", v, typ))
		}
		return tftypes.NewValue(typ, vals)
	case tftypes.Object:
		m, ok := v.(map[string]any)
		if !ok {
			panic(fmt.Sprintf("awsprovider: %T for %s", v, typ))
		}
		vals := map[string]tftypes.Value{}
		for k, at := range t.AttributeTypes {
			vals[k] = toValue(at, m[k])
		}
		return tftypes.NewValue(typ, vals)
	}
	switch {
	case typ.Is(tftypes.Number):
		switch x := v.(type) {
		case int:
			return tftypes.NewValue(typ, new(big.Float).SetInt64(int64(x)))
		case int64:
			return tftypes.NewValue(typ, new(big.Float).SetInt64(x))
		case float64:
			return tftypes.NewValue(typ, big.NewFloat(x))
		}
	case typ.Is(tftypes.String), typ.Is(tftypes.Bool):
		return tftypes.NewValue(typ, v)
	}
	panic(fmt.Sprintf("awsprovider: %T for %s", v, typ))
}

// resolveUnknowns replaces every value still unknown after an apply with
// null: a computed attribute the sandbox has no value for. Terraform
// refuses unknown values in state.
func resolveUnknowns(v tftypes.Value) (tftypes.Value, error) {
	return tftypes.Transform(v, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
}

// mergeTags is tags_all: the provider's default_tags overlaid with the
// resource's tags (a resource tag wins).
func mergeTags(defaults, tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range tags {
		out[k] = v
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
