package gateway

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// tricky strings exercise every escaping rule encoding/json applies.
var tricky = []string{"", "plain", "quote\" back\\slash", "<script>&amp;</script>", "ctl \x00\x01\x1f\b\f\n\r\t\x7f",
	"utf8 é 世界 🙂", "bad \xff\xfe utf8", "sep \u2028 \u2029", "trunc \xe4\xb8"}

func TestMarshalEventMatchesEncodingJSON(t *testing.T) {
	route, _ := ParseRoute("ANY /{proxy+}")
	for _, tc := range []struct {
		name   string
		method string
		url    string
		hdr    map[string][]string
		body   []byte
		edit   func(*events.APIGatewayProxyRequest)
	}{
		{name: "get", method: "GET", url: "/hello"},
		{name: "query and multi headers", method: "POST", url: "/a/b?x=1&x=2&y=%3Cz%3E", hdr: map[string][]string{"X-Multi": {"one", "two"}, "Accept": {"*/*"}}, body: []byte(`{"a":"<b>"}`)},
		{name: "binary body", method: "PUT", url: "/bin", body: []byte{0xff, 0, 0xfe}},
		{name: "no headers", method: "GET", url: "/", edit: func(ev *events.APIGatewayProxyRequest) { ev.Headers, ev.MultiValueHeaders = nil, nil }},
		{name: "empty and nil lists", method: "GET", url: "/", edit: func(ev *events.APIGatewayProxyRequest) {
			ev.MultiValueHeaders = map[string][]string{"A": {}, "B": nil}
			ev.StageVariables = map[string]string{}
		}},
		{name: "optional identity fields", method: "GET", url: "/", edit: func(ev *events.APIGatewayProxyRequest) {
			ev.RequestContext.OperationName = "op"
			id := &ev.RequestContext.Identity
			id.CognitoIdentityPoolID, id.AccountID, id.CognitoIdentityID, id.Caller = "p", "a", "c", "ca"
			id.APIKey, id.APIKeyID, id.AccessKey, id.CognitoAuthenticationType = "k", "ki", "ak", "t"
			id.CognitoAuthenticationProvider, id.UserArn, id.User = "pr", "arn", "u"
		}},
		{name: "authorizer falls back", method: "GET", url: "/", edit: func(ev *events.APIGatewayProxyRequest) {
			ev.RequestContext.Authorizer = map[string]any{"principalId": "me"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://e1.svc.localhost:8080"+tc.url, bytes.NewReader(tc.body))
			for k, vs := range tc.hdr {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			ev := buildEvent(r, &route, map[string]string{"proxy": strings.TrimPrefix(r.URL.Path, "/")}, tc.body, "e1", "rid-1", time.Unix(1700000000, 0))
			if tc.edit != nil {
				tc.edit(&ev)
			}
			want, err := json.Marshal(&ev)
			if err != nil {
				t.Fatal(err)
			}
			got, buf, err := marshalEvent(&ev)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("marshalEvent:\n got %s %v\nwant %s", got, err, want)
			}
			release(buf)
		})
	}
	// Every string position, every escaping rule.
	for _, s := range tricky {
		ev := events.APIGatewayProxyRequest{Resource: s, Path: s, HTTPMethod: s, Body: s,
			Headers: map[string]string{s: s, "z" + s: s}, MultiValueHeaders: map[string][]string{s: {s, s}},
			QueryStringParameters: map[string]string{s: s}, PathParameters: map[string]string{s: s}}
		ev.RequestContext.Identity.UserAgent = s
		ev.RequestContext.RequestTime = s
		want, _ := json.Marshal(&ev)
		if got := appendEvent(nil, &ev); !bytes.Equal(got, want) {
			t.Errorf("string %q:\n got %s\nwant %s", s, got, want)
		}
	}
}

func TestUnmarshalResponseMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{"statusCode":200,"headers":{"Content-Type":"text/plain; charset=utf-8","Cache-Control":"no-store"},"multiValueHeaders":null,"body":"abc: Hello world\n"}`,
		`{"statusCode":201,"headers":null,"multiValueHeaders":{"Set-Cookie":["a=1","b=2"],"X-Empty":[]},"body":"","isBase64Encoded":true}`,
		` { "statusCode" : 404 , "body" : "\u003cb\u003e \"q\" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude42" , "isBase64Encoded" : false } `,
		`{"statusCode":-1}`, `{"statusCode":0}`, `{}`,
		`{"statusCode":200,"headers":{"A":"1","A":"2"}}`,
		`{"StatusCode":200,"Body":"case-insensitive keys"}`,
		`{"statusCode":200,"extra":{"nested":[1,2,{"x":null}]},"body":"unknown keys are ignored"}`,
		`{"statusCode":200,"statusCode":302}`,
		`{"statusCode":200.0}`, `{"statusCode":2e2}`, `{"statusCode":0200}`, `{"statusCode":"200"}`, `{"statusCode":99999999999999999999}`,
		`{"statusCode":200,"body":"bad \xff utf8"}`, `{"statusCode":200,"body":"lone \ud800 surrogate"}`, `{"statusCode":200,"body":"ctl ` + "\x01" + `"}`,
		`{"statusCode":200,"body":null}`, `{"statusCode":200,"multiValueHeaders":{"A":null}}`, `{"statusCode":200,"multiValueHeaders":{"A":["x",null]}}`,
		`{"statusCode":200,"headers":{"A":1}}`, `{"statusCode":200,"isBase64Encoded":"yes"}`,
		`{"statusCode":200} trailing`, `{"statusCode":200`, `{"statusCode":200,}`, `[1]`, `null`, `oops`, ``, `"str"`,
	}
	for _, in := range inputs {
		var want, got events.APIGatewayProxyResponse
		werr := json.Unmarshal([]byte(in), &want)
		gerr := unmarshalResponse([]byte(in), &got)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Errorf("%s: error %v; encoding/json says %v", in, gerr, werr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", in, got, want)
		}
	}
	// The fast path, not the fallback, handles what aws-lambda-go writes.
	for _, in := range inputs[:3] {
		var resp events.APIGatewayProxyResponse
		if !parseResponse([]byte(in), &resp) {
			t.Errorf("fast path refused %s", in)
		}
	}
}

func TestRequestID(t *testing.T) {
	g := New(nil, nil)
	g.seq.Store(0xabc - 1)
	if got, want := g.requestID(), g.ridPrefix+"-000000000abc"; got != want {
		t.Errorf("requestID = %q; want %q", got, want)
	}
}

func TestIsLabelMatchesHostPart(t *testing.T) {
	for _, s := range []string{"", "a", "-", "a-", "-a", "a-b", "A", "a_b", "0a1b2c3d", "hello-service", "é",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "a.b", "a b"} {
		if got, want := isLabel(s), hostPart.MatchString(s); got != want {
			t.Errorf("isLabel(%q) = %v; hostPart says %v", s, got, want)
		}
	}
}
