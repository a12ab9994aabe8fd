package gateway

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// unmarshalResponse is json.Unmarshal(out, resp) for a proxy response.
// parseResponse handles what aws-lambda-go's runtime writes (exact-case
// keys, each once, strings without invalid UTF-8); anything else goes to
// encoding/json so its rules (case-insensitive keys, error messages) hold.
func unmarshalResponse(out []byte, resp *events.APIGatewayProxyResponse) error {
	if parseResponse(out, resp) {
		return nil
	}
	*resp = events.APIGatewayProxyResponse{}
	return json.Unmarshal(out, resp)
}

type respParser struct {
	s []byte
	i int
}

func (p *respParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c, consuming it.
func (p *respParser) next(c byte) bool {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *respParser) null() bool {
	p.ws()
	if len(p.s)-p.i >= 4 && string(p.s[p.i:p.i+4]) == "null" {
		p.i += 4
		return true
	}
	return false
}

// str parses a JSON string; ok is false for anything encoding/json would
// decode differently or reject (invalid UTF-8, control characters, bad escapes).
func (p *respParser) str() (string, bool) {
	if !p.next('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			s := string(p.s[start:p.i])
			p.i++
			return s, true
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			p.i += size
		}
	}
	return "", false
}

func (p *respParser) strEscaped(start int) (string, bool) {
	b := make([]byte, 0, p.i-start+16)
	b = append(b, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), true
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", false
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", false
				}
				if utf16.IsSurrogate(r) {
					// Only a well-formed pair; encoding/json's handling of
					// lone surrogates is left to it.
					if p.i+1 >= len(p.s) || p.s[p.i] != '\\' || p.s[p.i+1] != 'u' {
						return "", false
					}
					p.i += 2
					r2, ok := p.hex4()
					if !ok {
						return "", false
					}
					if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
						return "", false
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", false
			}
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			b = append(b, p.s[p.i:p.i+size]...)
			p.i += size
		}
	}
	return "", false
}

func (p *respParser) hex4() (rune, bool) {
	if len(p.s)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.s[p.i : p.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.i += 4
	return r, true
}

// rawKey parses a string without escapes and returns its bytes, unconverted
// (the top-level keys only need comparing).
func (p *respParser) rawKey() ([]byte, bool) {
	if !p.next('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			return p.s[start : p.i-1], true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// object parses {"key": value, ...}, calling val for each key; key is only
// valid during the call.
func (p *respParser) object(val func(key []byte) bool) bool {
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	for {
		k, ok := p.rawKey()
		if !ok || !p.next(':') || !val(k) {
			return false
		}
		if p.next('}') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

func parseResponse(s []byte, resp *events.APIGatewayProxyResponse) bool {
	p := &respParser{s: s}
	var seen [5]bool
	once := func(i int) bool {
		if seen[i] {
			return false
		}
		seen[i] = true
		return true
	}
	ok := p.object(func(key []byte) bool {
		switch string(key) {
		case "statusCode":
			return once(0) && p.int(&resp.StatusCode)
		case "headers":
			if !once(1) {
				return false
			}
			if p.null() {
				return true
			}
			resp.Headers = map[string]string{}
			return p.object(func(k []byte) bool {
				v, ok := p.str()
				resp.Headers[string(k)] = v
				return ok
			})
		case "multiValueHeaders":
			if !once(2) {
				return false
			}
			if p.null() {
				return true
			}
			resp.MultiValueHeaders = map[string][]string{}
			return p.object(func(k []byte) bool {
				if !p.next('[') {
					return false
				}
				vs := []string{}
				if !p.next(']') {
					for {
						v, ok := p.str()
						if !ok {
							return false
						}
						vs = append(vs, v)
						if p.next(']') {
							break
						}
						if !p.next(',') {
							return false
						}
					}
				}
				resp.MultiValueHeaders[string(k)] = vs
				return true
			})
		case "body":
			var ok bool
			resp.Body, ok = p.str()
			return once(3) && ok
		case "isBase64Encoded":
			if !once(4) {
				return false
			}
			p.ws()
			switch {
			case len(p.s)-p.i >= 4 && string(p.s[p.i:p.i+4]) == "true":
				resp.IsBase64Encoded = true
				p.i += 4
			case len(p.s)-p.i >= 5 && string(p.s[p.i:p.i+5]) == "false":
				resp.IsBase64Encoded = false
				p.i += 5
			default:
				return false
			}
			return true
		}
		return false
	})
	p.ws()
	return ok && p.i == len(p.s)
}

// int parses a JSON integer that fits an int without overflow.
func (p *respParser) int(v *int) bool {
	p.ws()
	neg := p.i < len(p.s) && p.s[p.i] == '-'
	if neg {
		p.i++
	}
	start := p.i
	n := 0
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		n = n*10 + int(p.s[p.i]-'0')
		p.i++
	}
	digits := p.i - start
	if digits == 0 || digits > 9 || (digits > 1 && p.s[start] == '0') {
		return false
	}
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case '.', 'e', 'E':
			return false
		}
	}
	if neg {
		n = -n
	}
	*v = n
	return true
}
