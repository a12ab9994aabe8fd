package gateway

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// tricky strings exercise every escaping rule encoding/json applies.
var tricky = []string{"", "plain", "quote\" back\\slash", "<script>&amp;</script>", "ctl \x00\x01\x1f\b\f\n\r\t\x7f",
	"utf8 é 世界 🙂", "bad \xff\xfe utf8", "sep \u2028 \u2029", "trunc \xe4\xb8"}

func TestMarshalRequestEventMatchesEncodingJSON(t *testing.T) {
	type request struct {
		name, method, url, host, remote, proto string
		hdr                                    map[string][]string
		body                                   []byte
		route                                  string
	}
	cases := []request{
		{name: "get", method: "GET", url: "/hello"},
		{name: "query and multi headers", method: "POST", url: "/a/b?x=1&x=2&y=%3Cz%3E&empty=", hdr: map[string][]string{"X-Multi": {"one", "two"}, "Accept": {"*/*"}}, body: []byte(`{"a":"<b>"}`)},
		{name: "params", method: "DELETE", url: "/items/7", route: "ANY /items/{id}"},
		{name: "root", method: "GET", url: "/", route: "ANY /"},
		{name: "binary body", method: "PUT", url: "/bin", body: []byte{0xff, 0, 0xfe, 0xfb, 0xef}},
		{name: "empty header values and Host header", method: "GET", url: "/h", hdr: map[string][]string{"X-Empty": {}, "Host": {"other.example"}}},
		{name: "no host", method: "GET", url: "/h", host: "-"},
		{name: "remote without port", method: "GET", url: "/h", remote: "unix-socket"},
		{name: "HTTP/1.0", method: "GET", url: "/h", proto: "HTTP/1.0"},
		{name: "many headers", method: "GET", url: "/h", hdr: func() map[string][]string {
			m := map[string][]string{}
			for i := range 40 {
				m[string(rune('A'+i%26))+strings.Repeat("x", i)] = []string{strings.Repeat("v", i)}
			}
			return m
		}()},
	}
	// Every escaping rule in every place a request's own strings land.
	for _, s := range tricky {
		cases = append(cases, request{name: "tricky " + s, method: "POST", url: "/p?" + url.Values{s: {s, s}, "k": {s}}.Encode(),
			hdr: map[string][]string{"X-Tricky": {s, s}, "User-Agent": {s}}, body: []byte(s)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.route == "" {
				tc.route = "ANY /{proxy+}"
			}
			route, err := ParseRoute(tc.route)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(tc.method, "http://e1.svc.localhost:8080"+tc.url, bytes.NewReader(tc.body))
			for k, vs := range tc.hdr {
				r.Header[k] = vs
			}
			switch tc.host {
			case "":
			case "-":
				r.Host = ""
			default:
				r.Host = tc.host
			}
			if tc.remote != "" {
				r.RemoteAddr = tc.remote
			}
			if tc.proto != "" {
				r.Proto = tc.proto
			}
			var params map[string]string
			segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
			if r.URL.Path == "/" {
				segs = nil
			}
			params, ok := route.match(r.Method, segs)
			if !ok {
				t.Fatalf("route %s does not match %s", tc.route, r.URL.Path)
			}
			now := time.Date(2026, 11, 28, 5, 4, 3, 2e6, time.FixedZone("X", 3600))
			want, err := json.Marshal(buildEvent(r, &route, params, tc.body, "e1", "rid-1", now))
			if err != nil {
				t.Fatal(err)
			}
			got, buf := marshalRequestEvent(r, &route, params, tc.body, "e1", "rid-1", now)
			if !bytes.Equal(got, want) {
				t.Fatalf("marshalRequestEvent:\n got %s\nwant %s", got, want)
			}
			release(buf)
		})
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
