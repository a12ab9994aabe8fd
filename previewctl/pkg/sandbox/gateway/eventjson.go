package gateway

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// The gateway encodes a proxy event and decodes a proxy response on every
// request; encoding/json's reflection and its map sorting were a fifth of the
// gateway hop's CPU. These hand-written codecs produce exactly what
// encoding/json produces (eventjson_test.go checks byte for byte against it)
// and fall back to encoding/json for anything outside the shapes they know.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// marshalEvent is json.Marshal(ev) into a pooled buffer; call release with
// the returned pointer once the bytes are no longer used.
func marshalEvent(ev *events.APIGatewayProxyRequest) ([]byte, *[]byte, error) {
	if ev.RequestContext.Authorizer != nil || ev.RequestContext.Identity.ClientCert != nil {
		b, err := json.Marshal(ev)
		return b, nil, err
	}
	bp := bufPool.Get().(*[]byte)
	b := appendEvent((*bp)[:0], ev)
	*bp = b
	return b, bp, nil
}

func release(bp *[]byte) {
	if bp != nil && cap(*bp) <= 64<<10 {
		bufPool.Put(bp)
	}
}

func appendEvent(b []byte, ev *events.APIGatewayProxyRequest) []byte {
	b = append(b, `{"resource":`...)
	b = appendString(b, ev.Resource)
	b = append(b, `,"path":`...)
	b = appendString(b, ev.Path)
	b = append(b, `,"httpMethod":`...)
	b = appendString(b, ev.HTTPMethod)
	b = append(b, `,"headers":`...)
	b = appendStringMap(b, ev.Headers)
	b = append(b, `,"multiValueHeaders":`...)
	b = appendMultiMap(b, ev.MultiValueHeaders)
	b = append(b, `,"queryStringParameters":`...)
	b = appendStringMap(b, ev.QueryStringParameters)
	b = append(b, `,"multiValueQueryStringParameters":`...)
	b = appendMultiMap(b, ev.MultiValueQueryStringParameters)
	b = append(b, `,"pathParameters":`...)
	b = appendStringMap(b, ev.PathParameters)
	b = append(b, `,"stageVariables":`...)
	b = appendStringMap(b, ev.StageVariables)
	rc := &ev.RequestContext
	b = append(b, `,"requestContext":{"accountId":`...)
	b = appendString(b, rc.AccountID)
	b = append(b, `,"resourceId":`...)
	b = appendString(b, rc.ResourceID)
	if rc.OperationName != "" {
		b = append(b, `,"operationName":`...)
		b = appendString(b, rc.OperationName)
	}
	b = append(b, `,"stage":`...)
	b = appendString(b, rc.Stage)
	b = append(b, `,"domainName":`...)
	b = appendString(b, rc.DomainName)
	b = append(b, `,"domainPrefix":`...)
	b = appendString(b, rc.DomainPrefix)
	b = append(b, `,"requestId":`...)
	b = appendString(b, rc.RequestID)
	b = append(b, `,"extendedRequestId":`...)
	b = appendString(b, rc.ExtendedRequestID)
	b = append(b, `,"protocol":`...)
	b = appendString(b, rc.Protocol)
	b = append(b, `,"identity":{`...)
	b = appendIdentity(b, &rc.Identity)
	b = append(b, `},"resourcePath":`...)
	b = appendString(b, rc.ResourcePath)
	b = append(b, `,"path":`...)
	b = appendString(b, rc.Path)
	b = append(b, `,"authorizer":null,"httpMethod":`...)
	b = appendString(b, rc.HTTPMethod)
	b = append(b, `,"requestTime":`...)
	b = appendString(b, rc.RequestTime)
	b = append(b, `,"requestTimeEpoch":`...)
	b = strconv.AppendInt(b, rc.RequestTimeEpoch, 10)
	b = append(b, `,"apiId":`...)
	b = appendString(b, rc.APIID)
	b = append(b, `},"body":`...)
	b = appendString(b, ev.Body)
	if ev.IsBase64Encoded {
		b = append(b, `,"isBase64Encoded":true`...)
	}
	return append(b, '}')
}

func appendIdentity(b []byte, id *events.APIGatewayRequestIdentity) []byte {
	opt := func(b []byte, name, v string) []byte {
		if v == "" {
			return b
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b = appendString(b, v)
		return append(b, ',')
	}
	b = opt(b, "cognitoIdentityPoolId", id.CognitoIdentityPoolID)
	b = opt(b, "accountId", id.AccountID)
	b = opt(b, "cognitoIdentityId", id.CognitoIdentityID)
	b = opt(b, "caller", id.Caller)
	b = opt(b, "apiKey", id.APIKey)
	b = opt(b, "apiKeyId", id.APIKeyID)
	b = opt(b, "accessKey", id.AccessKey)
	b = append(b, `"sourceIp":`...)
	b = appendString(b, id.SourceIP)
	b = append(b, ',')
	b = opt(b, "cognitoAuthenticationType", id.CognitoAuthenticationType)
	b = opt(b, "cognitoAuthenticationProvider", id.CognitoAuthenticationProvider)
	b = opt(b, "userArn", id.UserArn)
	b = append(b, `"userAgent":`...)
	b = appendString(b, id.UserAgent)
	if id.User != "" {
		b = append(b, `,"user":`...)
		b = appendString(b, id.User)
	}
	return b
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
	b = append(b, s[start:]...)
	return append(b, '"')
}
