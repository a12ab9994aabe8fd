package policies

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// toValue builds the OPA value that encoding/json would produce for in,
// without going through JSON text: for a 10,000-stack trigger input the JSON
// round trip (marshal, decode to interface{}, convert) cost several times
// the policy evaluation itself. Field names, omitempty, embedded structs and
// nil-as-null follow encoding/json; a test checks both paths agree.
func toValue(in any) (ast.Value, error) {
	return toProjectedValue(in, wholeProjection)
}

// toProjectedValue is toValue restricted to the paths p keeps: what the
// policy can read is identical, the rest is never built.
func toProjectedValue(in any, p *projection) (ast.Value, error) {
	t, err := newEncoder().termOf(reflect.ValueOf(in), p)
	if err != nil {
		return nil, err
	}
	return t.Value, nil
}

// encoder allocates as little as it can: at 60,000 objects the garbage
// collector is most of the cost. Terms come from slabs, a string seen twice
// shares one term, so does a small object built twice, and object key/value
// pairs are built in one reused buffer.
// OPA never modifies input terms, so sharing them is safe. An encoder is
// used by one goroutine, for one document.
type encoder struct {
	slab   []ast.Term
	next   int // size of the next slab
	strs   map[string]*ast.Term
	kvs    [][2]*ast.Term                // a stack: each object uses the tail it appended
	objs1  map[[1][2]*ast.Term]*ast.Term // small objects by their pairs, one table per size
	objs2  map[[2][2]*ast.Term]*ast.Term
	objs3  map[[3][2]*ast.Term]*ast.Term
	objs4  map[[4][2]*ast.Term]*ast.Term
	fields map[fieldsKey][]projectedField
}

func newEncoder() *encoder {
	return &encoder{
		strs:   map[string]*ast.Term{},
		objs1:  map[[1][2]*ast.Term]*ast.Term{},
		objs2:  map[[2][2]*ast.Term]*ast.Term{},
		objs3:  map[[3][2]*ast.Term]*ast.Term{},
		objs4:  map[[4][2]*ast.Term]*ast.Term{},
		fields: map[fieldsKey][]projectedField{},
	}
}

// maxSlab bounds the slab size; slabs start small and double so that a
// small input (a push) does not pay for a large one.
const maxSlab = 512

func (enc *encoder) term(v ast.Value) *ast.Term {
	if len(enc.slab) == 0 {
		enc.next = min(max(2*enc.next, 16), maxSlab)
		enc.slab = make([]ast.Term, enc.next)
	}
	t := &enc.slab[0]
	enc.slab = enc.slab[1:]
	t.Value = v
	return t
}

func (enc *encoder) str(s string) *ast.Term {
	if t, ok := enc.strs[s]; ok {
		return t
	}
	t := enc.term(ast.String(s))
	enc.strs[s] = t
	return t
}

// object builds an object from the pairs appended to enc.kvs since start
// and pops them. A small object whose keys and values are the very terms
// of one built before is that object: thousands of changes share a few
// {"stack_id": id} values, entities and change objects once the policy's
// projection has dropped what made each one unique.
func (enc *encoder) object(start int) *ast.Term {
	kvs := enc.kvs[start:]
	n := len(kvs)
	for _, kv := range kvs {
		if _, ok := kv[1].Value.(*ast.Array); ok {
			n = 0 // arrays are built anew each time: no earlier object holds this one
			break
		}
	}
	var t *ast.Term
	switch n {
	case 1:
		t = shared(enc, enc.objs1, [1][2]*ast.Term(kvs), kvs)
	case 2:
		t = shared(enc, enc.objs2, [2][2]*ast.Term(kvs), kvs)
	case 3:
		t = shared(enc, enc.objs3, [3][2]*ast.Term(kvs), kvs)
	case 4:
		t = shared(enc, enc.objs4, [4][2]*ast.Term(kvs), kvs)
	default:
		t = enc.term(ast.NewObject(kvs...))
	}
	enc.pop(start)
	return t
}

// shared returns the object made of exactly the pairs key, built once.
// Keyed by term identity, with one table per size: hashing the key is
// most of the cost of a look-up, and most objects have one or two pairs.
func shared[K comparable](enc *encoder, objs map[K]*ast.Term, key K, kvs [][2]*ast.Term) *ast.Term {
	if t, ok := objs[key]; ok {
		return t
	}
	t := enc.term(ast.NewObject(kvs...))
	objs[key] = t
	return t
}

// projectedField is a struct field the projection keeps, with its own
// projection.
type projectedField struct {
	field *field
	proj  *projection
}

type fieldsKey struct {
	t reflect.Type
	p *projection
}

// fieldsOf lists the fields of t that p keeps, once per type and projection
// rather than one projection look-up per field of every value.
func (enc *encoder) fieldsOf(t reflect.Type, p *projection) []projectedField {
	if pfs, ok := enc.fields[fieldsKey{t, p}]; ok {
		return pfs
	}
	fields := structFields(t)
	pfs := make([]projectedField, 0, len(fields))
	for i := range fields {
		if fp := p.child(fields[i].name); fp != nil { // else the policy never reads it
			pfs = append(pfs, projectedField{&fields[i], fp})
		}
	}
	enc.fields[fieldsKey{t, p}] = pfs
	return pfs
}

func (enc *encoder) pop(start int) {
	clear(enc.kvs[start:])
	enc.kvs = enc.kvs[:start]
}

func (enc *encoder) termOf(v reflect.Value, p *projection) (*ast.Term, error) {
	if v.Kind() == reflect.Interface && !v.IsNil() {
		// Untyped JSON-like data (entity.data) skips reflection.
		if t, ok := enc.plainTerm(v.Elem().Interface(), p); ok {
			return t, nil
		}
	}
	switch v.Kind() {
	case reflect.Invalid:
		return ast.InternedNullTerm, nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ast.InternedNullTerm, nil
		}
		return enc.termOf(v.Elem(), p)
	case reflect.Struct:
		start := len(enc.kvs)
		for _, pf := range enc.fieldsOf(v.Type(), p) {
			f, fp := pf.field, pf.proj
			fv := v.FieldByIndex(f.index)
			if f.omitEmpty && isEmptyValue(fv) {
				continue
			}
			x, err := enc.termOf(fv, fp)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			enc.kvs = append(enc.kvs, [2]*ast.Term{f.key, x})
		}
		return enc.object(start), nil
	case reflect.Slice:
		if v.IsNil() {
			return ast.InternedNullTerm, nil
		}
		fallthrough
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil, fmt.Errorf("byte slices are not supported")
		}
		terms, err := enc.fillTerms(v, p.elem(), p.unordered())
		if err != nil {
			return nil, err
		}
		return enc.term(ast.NewArray(terms...)), nil
	case reflect.Map:
		if m, ok := v.Interface().(map[string]any); ok {
			// entity.data: iterating it through reflect allocates per entry.
			if t, ok := enc.plainTerm(m, p); ok {
				return t, nil
			}
		}
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key type %s is not a string", v.Type().Key())
		}
		if v.IsNil() {
			return ast.InternedNullTerm, nil
		}
		start := len(enc.kvs)
		for it := v.MapRange(); it.Next(); {
			kp := p.child(it.Key().String())
			if kp == nil {
				continue
			}
			x, err := enc.termOf(it.Value(), kp)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", it.Key().String(), err)
			}
			enc.kvs = append(enc.kvs, [2]*ast.Term{enc.str(it.Key().String()), x})
		}
		return enc.object(start), nil
	case reflect.String:
		return enc.str(v.String()), nil
	case reflect.Bool:
		return ast.InternedTerm(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return ast.InternedTerm(v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return ast.NumberTerm(json.Number(strconv.FormatUint(v.Uint(), 10))), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%v has no JSON form", f)
		}
		return ast.NumberTerm(json.Number(strconv.FormatFloat(f, 'g', -1, 64))), nil
	}
	return nil, fmt.Errorf("type %s has no JSON form", v.Type())
}

// fillTerms converts the elements of v, with their duplicates dropped if
// unique is set. One encoder does it all, on one core: encoding a large
// array in parallel chunks, each with its own tables, built most shared
// objects once per chunk, cost more CPU than it saved wall time on two
// cores, and much more wall time when the other core was busy.
func (enc *encoder) fillTerms(v reflect.Value, p *projection, unique bool) ([]*ast.Term, error) {
	terms := make([]*ast.Term, v.Len())
	for i := range terms {
		x, err := enc.termOf(v.Index(i), p)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		terms[i] = x
	}
	if unique {
		return dedupe(terms), nil
	}
	return terms, nil
}

// dedupe drops the elements of terms equal to an earlier one, keeping the
// first occurrences in order. For an array the policy only iterates (see
// projection.unordered) this changes nothing the policy can compute, and
// once projected the changes of a large run are mostly equal: the
// variables of one stack differ only in attributes the policy never reads.
func dedupe(terms []*ast.Term) []*ast.Term {
	if len(terms) < 2 {
		return terms
	}
	first := make(map[int]*ast.Term, len(terms)/4)
	var more map[int][]*ast.Term // other distinct terms with an already seen hash
	out := terms[:0]
	for _, t := range terms {
		h := t.Value.Hash() // cached for objects and arrays
		u, ok := first[h]
		if !ok {
			first[h] = t
			out = append(out, t)
			continue
		}
		if u.Equal(t) || slices.ContainsFunc(more[h], t.Equal) {
			continue
		}
		if more == nil {
			more = map[int][]*ast.Term{}
		}
		more[h] = append(more[h], t)
		out = append(out, t)
	}
	clear(terms[len(out):])
	return slices.Clip(out)
}

// plainTerm converts the types encoding/json decodes into, without reflection.
func (enc *encoder) plainTerm(x any, p *projection) (*ast.Term, bool) {
	switch x := x.(type) {
	case string:
		return enc.str(x), true
	case bool:
		return ast.InternedTerm(x), true
	case nil:
		return ast.InternedNullTerm, true
	case map[string]any:
		if x == nil {
			return ast.InternedNullTerm, true
		}
		start := len(enc.kvs)
		if p.named != nil {
			// Only the keys the policy reads, in a fixed order (so that equal
			// objects are built from the same pairs and shared).
			for _, c := range p.named {
				v, ok := x[c.key]
				if !ok {
					continue
				}
				t, ok := enc.plainTerm(v, c.proj)
				if !ok {
					enc.pop(start)
					return nil, false
				}
				enc.kvs = append(enc.kvs, [2]*ast.Term{c.term, t})
			}
			return enc.object(start), true
		}
		for k, v := range x {
			kp := p.child(k)
			if kp == nil {
				continue
			}
			t, ok := enc.plainTerm(v, kp)
			if !ok {
				enc.pop(start)
				return nil, false
			}
			enc.kvs = append(enc.kvs, [2]*ast.Term{enc.str(k), t})
		}
		return enc.object(start), true
	case []any:
		if x == nil {
			return ast.InternedNullTerm, true
		}
		terms := make([]*ast.Term, len(x))
		ep := p.elem()
		for i, v := range x {
			t, ok := enc.plainTerm(v, ep)
			if !ok {
				return nil, false
			}
			terms[i] = t
		}
		return enc.term(ast.NewArray(terms...)), true
	}
	return nil, false // numbers and anything else: the reflective path, with its checks
}

// isEmptyValue is encoding/json's omitempty test (a struct is never empty).
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

type field struct {
	name      string
	key       *ast.Term // shared by every object of the type; terms are immutable
	index     []int
	omitEmpty bool
}

var fieldCache sync.Map // reflect.Type -> []field

// structFields lists t's JSON fields in declaration order, embedded structs
// without a tag flattened as encoding/json does.
func structFields(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			for _, inner := range structFields(sf.Type) {
				inner.index = append([]int{i}, inner.index...)
				fs = append(fs, inner)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fs = append(fs, field{name: name, key: ast.StringTerm(name), index: []int{i}, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
	fieldCache.Store(t, fs)
	return fs
}
