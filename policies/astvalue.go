package policies

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
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
	t, err := termOf(reflect.ValueOf(in), p)
	if err != nil {
		return nil, err
	}
	return t.Value, nil
}

// termOf allocates as little as it can (interned small values, shared key
// terms): at 60,000 objects the garbage collector is most of the cost.
func termOf(v reflect.Value, p *projection) (*ast.Term, error) {
	if v.Kind() == reflect.Interface && !v.IsNil() {
		// Untyped JSON-like data (entity.data) skips reflection.
		if t, ok := plainTerm(v.Elem().Interface(), p); ok {
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
		return termOf(v.Elem(), p)
	case reflect.Struct:
		fields := structFields(v.Type())
		kvs := make([][2]*ast.Term, 0, len(fields))
		for _, f := range fields {
			fp := p.child(f.name)
			if fp == nil {
				continue // the policy never reads it
			}
			fv := v.FieldByIndex(f.index)
			if f.omitEmpty && isEmptyValue(fv) {
				continue
			}
			x, err := termOf(fv, fp)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			kvs = append(kvs, [2]*ast.Term{f.key, x})
		}
		return ast.ObjectTerm(kvs...), nil
	case reflect.Slice:
		if v.IsNil() {
			return ast.InternedNullTerm, nil
		}
		fallthrough
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil, fmt.Errorf("byte slices are not supported")
		}
		terms := make([]*ast.Term, v.Len())
		if err := fillTerms(v, terms, p.elem()); err != nil {
			return nil, err
		}
		return ast.ArrayTerm(terms...), nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key type %s is not a string", v.Type().Key())
		}
		if v.IsNil() {
			return ast.InternedNullTerm, nil
		}
		kvs := make([][2]*ast.Term, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			kp := p.child(it.Key().String())
			if kp == nil {
				continue
			}
			x, err := termOf(it.Value(), kp)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", it.Key().String(), err)
			}
			kvs = append(kvs, [2]*ast.Term{ast.InternedTerm(it.Key().String()), x})
		}
		return ast.ObjectTerm(kvs...), nil
	case reflect.String:
		return ast.InternedTerm(v.String()), nil
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

// parallelMin is the array length from which elements are encoded on all
// cores: the stacks and changes of a large account dominate the encoding.
const parallelMin = 2048

func fillTerms(v reflect.Value, terms []*ast.Term, p *projection) error {
	encode := func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			x, err := termOf(v.Index(i), p)
			if err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
			terms[i] = x
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(terms)/(parallelMin/2))
	if len(terms) < parallelMin || workers < 2 {
		return encode(0, len(terms))
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	chunk := (len(terms) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(terms))
		wg.Go(func() { errs[w] = encode(lo, hi) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// plainTerm converts the types encoding/json decodes into, without reflection.
func plainTerm(x any, p *projection) (*ast.Term, bool) {
	switch x := x.(type) {
	case string:
		return ast.InternedTerm(x), true
	case bool:
		return ast.InternedTerm(x), true
	case nil:
		return ast.InternedNullTerm, true
	case map[string]any:
		if x == nil {
			return ast.InternedNullTerm, true
		}
		kvs := make([][2]*ast.Term, 0, len(x))
		for k, v := range x {
			kp := p.child(k)
			if kp == nil {
				continue
			}
			t, ok := plainTerm(v, kp)
			if !ok {
				return nil, false
			}
			kvs = append(kvs, [2]*ast.Term{ast.InternedTerm(k), t})
		}
		return ast.ObjectTerm(kvs...), true
	case []any:
		if x == nil {
			return ast.InternedNullTerm, true
		}
		terms := make([]*ast.Term, len(x))
		ep := p.elem()
		for i, v := range x {
			t, ok := plainTerm(v, ep)
			if !ok {
				return nil, false
			}
			terms[i] = t
		}
		return ast.ArrayTerm(terms...), true
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
