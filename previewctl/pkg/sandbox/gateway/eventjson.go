package gateway

import (
	"encoding/base64"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The gateway encodes a proxy event and decodes a proxy response on every
// request; building the event's maps and encoding/json's reflection and map
// sorting were about a third of the gateway's own CPU per request. The
// encoder here writes exactly what json.Marshal(buildEvent(...)) writes
// (eventjson_test.go checks byte for byte); buildEvent stays the readable
// statement of the mapping. The response decoder is in respjson.go.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func release(bp *[]byte) {
	if bp != nil && cap(*bp) <= 64<<10 {
		bufPool.Put(bp)
	}
}

// marshalRequestEvent is json.Marshal(buildEvent(...)) written straight
// from the request, without the event's maps, into a pooled buffer; call
// release with the returned pointer once the bytes are no longer used.
func marshalRequestEvent(r *http.Request, route *Route, params map[string]string, body []byte, stage, rid string, now time.Time) ([]byte, *[]byte) {
	bp := bufPool.Get().(*[]byte)
	b := appendRequestEvent((*bp)[:0], r, route, params, body, stage, rid, now)
	*bp = b
	return b, bp
}

func appendRequestEvent(b []byte, r *http.Request, route *Route, params map[string]string, body []byte, stage, rid string, now time.Time) []byte {
	b = append(b, `{"resource":`...)
	b = appendString(b, route.Path)
	b = append(b, `,"path":`...)
	b = appendString(b, r.URL.Path)
	b = append(b, `,"httpMethod":`...)
	b = appendString(b, r.Method)
	b = append(b, `,"headers":`...)
	if len(r.Header) == 0 && r.Host == "" {
		b = append(b, `null,"multiValueHeaders":null`...)
	} else {
		// The event's header maps: every named header with a value, and Host.
		var scratch [16]string
		keys := append(scratch[:0], "Host")
		for k, v := range r.Header {
			if len(v) > 0 && k != "Host" {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			if k == "Host" {
				b = appendString(b, r.Host)
			} else {
				v := r.Header[k]
				b = appendString(b, v[len(v)-1])
			}
		}
		b = append(b, `},"multiValueHeaders":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':', '[')
			if k == "Host" {
				b = appendString(b, r.Host)
			} else {
				for j, v := range r.Header[k] {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendString(b, v)
				}
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `,"queryStringParameters":`...)
	var q map[string][]string
	if r.URL.RawQuery != "" {
		q = r.URL.Query()
	}
	if len(q) == 0 {
		b = append(b, `null,"multiValueQueryStringParameters":null`...)
	} else {
		var scratch [16]string
		keys := sortedKeys(q, scratch[:])
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, q[k][len(q[k])-1])
		}
		b = append(b, `},"multiValueQueryStringParameters":`...)
		b = appendMultiMap(b, q)
	}
	b = append(b, `,"pathParameters":`...)
	b = appendStringMap(b, params)
	b = append(b, `,"stageVariables":null,"requestContext":{"accountId":"000000000000","resourceId":`...)
	b = append(b, '"')
	b = appendStringBody(b, route.Method)
	b = append(b, ' ')
	b = appendStringBody(b, route.Path)
	b = append(b, `","stage":`...)
	b = appendString(b, stage)
	b = append(b, `,"domainName":`...)
	b = appendString(b, r.Host)
	b = append(b, `,"domainPrefix":"","requestId":`...)
	b = appendString(b, rid)
	b = append(b, `,"extendedRequestId":"","protocol":`...)
	b = appendString(b, r.Proto)
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	b = append(b, `,"identity":{"sourceIp":`...)
	b = appendString(b, ip)
	b = append(b, `,"userAgent":`...)
	b = appendString(b, r.UserAgent())
	b = append(b, `},"resourcePath":`...)
	b = appendString(b, route.Path)
	b = append(b, `,"path":"/`...)
	b = appendStringBody(b, stage)
	b = appendStringBody(b, r.URL.Path)
	b = append(b, `","authorizer":null,"httpMethod":`...)
	b = appendString(b, r.Method)
	b = append(b, `,"requestTime":"`...)
	// The layout's output is ASCII digits, letters, '/', ':', ' ' and '+'
	// or '-': nothing JSON escapes.
	b = now.UTC().AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, `","requestTimeEpoch":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	b = append(b, `,"apiId":"sandbox"},"body":`...)
	b64 := false
	switch {
	case len(body) == 0:
		b = append(b, `""`...)
	case utf8.Valid(body):
		b = appendString(b, string(body))
	default:
		// Base64's alphabet needs no JSON escaping.
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, body)
		b = append(b, '"')
		b64 = true
	}
	if b64 {
		b = append(b, `,"isBase64Encoded":true`...)
	}
	return append(b, '}')
}

// sortedKeys returns m's keys in encoding/json's order; small maps (the
// common case) sort in a stack array.
func sortedKeys[V any](m map[string]V, scratch []string) []string {
	keys := scratch[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var scratch [16]string
	b = append(b, '{')
	for i, k := range sortedKeys(m, scratch[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

func appendMultiMap(b []byte, m map[string][]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var scratch [16]string
	b = append(b, '{')
	for i, k := range sortedKeys(m, scratch[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		vs := m[k]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString is encoding/json's string encoding with HTML escaping (its
// default): <, > and & as \u00XX, invalid UTF-8 as \ufffd, U+2028 and
// U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendStringBody(b, s)
	return append(b, '"')
}

// appendStringBody is appendString without the quotes; escaping works rune
// by rune, so a string's pieces can be appended one after the other.
func appendStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
