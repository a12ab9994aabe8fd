package envfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)

func valid() Environment {
	e, err := New("hello-service", "acme", "shop", 42, "latest", "main", t0, DefaultTTL)
	if err != nil {
		panic(err)
	}
	return e
}

func TestID(t *testing.T) {
	for _, tc := range []struct {
		owner, repo string
		n           int
		hashed      string
	}{
		{"acme", "shop", 42, "acme/shop#42"},
		{"ACME", "Shop", 42, "acme/shop#42"},
		{"0day", "x.y_z-1", 1, "0day/x.y_z-1#1"},
		{"a", "b", 2147483647, "a/b#2147483647"},
	} {
		sum := sha256.Sum256([]byte(tc.hashed))
		want := hex.EncodeToString(sum[:])[:8]
		if got := ID(tc.owner, tc.repo, tc.n); got != want {
			t.Errorf("ID(%q,%q,%d) = %s, want %s", tc.owner, tc.repo, tc.n, got, want)
		}
	}
	// The README's one-liner value, pinned so a change of scheme is noticed.
	if got := ID("acme", "shop", 42); got != "191559f5" {
		t.Errorf("ID(acme, shop, 42) = %s, want 191559f5", got)
	}
	if ID("ab", "c", 1) == ID("a", "bc", 1) {
		t.Error("owner/repo boundary is ambiguous")
	}
}

func TestNamesFromModel(t *testing.T) {
	for _, tc := range []struct {
		owner, repo string
		n           int
		file        string
	}{
		{"acme", "shop", 42, "acme-shop-42-191559f5.tf"},
		{"ACME", "Shop", 42, "acme-shop-42-191559f5.tf"},
		{"9lives", "x.y", 7, "9lives-x.y-7-" + ID("9lives", "x.y", 7) + ".tf"},
	} {
		e, err := New("hello-service", tc.owner, tc.repo, tc.n, "latest", "main", t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got := FileName(e); got != tc.file {
			t.Errorf("FileName = %s, want %s", got, tc.file)
		}
		if !IsEnvFileName(FileName(e)) {
			t.Errorf("IsEnvFileName(%s) = false", FileName(e))
		}
		if got := ModuleName(e); got != "env_"+e.ID {
			t.Errorf("ModuleName = %s", got)
		}
	}
}

func TestRenderGolden(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name string
		e    func() Environment
	}{
		{"basic", valid},
		{"sha-and-branch", func() Environment {
			e, _ := New("hello-service", "Octo-Org", "my.repo_2", 1234, sha, "feature/infra-change", t0, 48*time.Hour)
			return e
		}},
		{"escapes", func() Environment {
			// Allowed by the rules but meaningful to HCL or shells: must stay literal.
			e, _ := New("hello-service", "acme", "shop", 7, "latest", "feat/$HOME{x}%y'=a+b,c;d!e&f|g", t0, time.Hour)
			return e
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.e()
			got, err := Render(e)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tc.name+".tf")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("render mismatch:\n--- got\n%s\n--- want\n%s", got, want)
			}
			back, err := Parse(FileName(e), got)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(e) {
				t.Errorf("round trip: got %+v, want %+v", back, e)
			}
		})
	}
}

// TestHostileInput is the table of hostile values with the exact refusal
// for each; every refusal is one line.
func TestHostileInput(t *testing.T) {
	long := strings.Repeat("a", 300)
	sha := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name                         string
		service, owner, repo, cv, br string
		pr                           int
		want                         string
	}{
		{"branch quote", "", "", "", "", `main" evil = "x`, 0, `invalid infra-branch "main\" evil = \"x": must not contain double quotes`},
		{"branch only quote", "", "", "", "", `a"b`, 0, `invalid infra-branch "a\"b": must not contain double quotes`},
		{"branch interpolation", "", "", "", "", `x${file("/etc/passwd")}`, 0, `invalid infra-branch "x${file(\"/etc/passwd\")}": must not contain "${" (template interpolation)`},
		{"branch directive", "", "", "", "", `%{for x in y}`, 0, `invalid infra-branch "%{for x in y}": must not contain "%{" (template directive)`},
		{"branch directive nospace", "", "", "", "", `%{if}x`, 0, `invalid infra-branch "%{if}x": must not contain "%{" (template directive)`},
		{"branch backslash", "", "", "", "", `a\b`, 0, `invalid infra-branch "a\\b": must not contain '\\'`},
		{"branch newline", "", "", "", "", "main\nevil", 0, `invalid infra-branch "main\nevil": must not contain control characters`},
		{"branch dotdot", "", "", "", "", "../../etc", 0, `invalid infra-branch "../../etc": must not contain ".."`},
		{"branch leading dash", "", "", "", "", "--upload-pack=x", 0, `invalid infra-branch "--upload-pack=x": must not begin with '-'`},
		{"branch too long", "", "", "", "", strings.Repeat("b", 300), 0, `invalid infra-branch "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"...(300 bytes): longer than 255 bytes`},
		{"branch lock", "", "", "", "", "a/b.lock", 0, `invalid infra-branch "a/b.lock": no path component may end with ".lock"`},
		{"branch dot component", "", "", "", "", "a/.b", 0, `invalid infra-branch "a/.b": no path component may begin with '.'`},
		{"branch reflog", "", "", "", "", "a@{1}", 0, `invalid infra-branch "a@{1}": must not contain "@{"`},
		{"branch bidi", "", "", "", "", "a\u202eb", 0, `invalid infra-branch "a\u202eb": must be ASCII, found U+202E`},
		{"branch unicode look-alike", "", "", "", "", "m\u0430in", 0, `invalid infra-branch "m\u0430in": must be ASCII, found U+0430`},
		{"branch unicode", "", "", "", "", "feature/ü", 0, `invalid infra-branch "feature/\u00fc": must be ASCII, found U+00FC`},
		{"branch invalid utf8", "", "", "", "", "a\xffb", 0, `invalid infra-branch "a\xffb": is not valid UTF-8`},
		{"branch colon", "", "", "", "", "a:b", 0, `invalid infra-branch "a:b": must not contain ':'`},
		{"branch empty", "", "", "", "", "", 0, `invalid infra-branch "": must not be empty`},
		{"owner leading dash", "", "-acme", "", "", "", 0, `invalid owner "-acme": must not begin or end with a hyphen`},
		{"owner double dash", "", "ac--me", "", "", "", 0, `invalid owner "ac--me": must not contain consecutive hyphens`},
		{"owner unicode", "", "acmé", "", "", "", 0, `invalid owner "acm\u00e9": may contain only ASCII letters, digits and hyphens`},
		{"owner slash", "", "a/b", "", "", "", 0, `invalid owner "a/b": may contain only ASCII letters, digits and hyphens`},
		{"owner interpolation", "", "${x}", "", "", "", 0, `invalid owner "${x}": may contain only ASCII letters, digits and hyphens`},
		{"owner 300", "", long, "", "", "", 0, `invalid owner "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"...(300 bytes): longer than 39 characters`},
		{"repo dotdot", "", "", "..", "", "", 0, `invalid repo "..": must not be "." or ".."`},
		{"repo slash", "", "", "../etc", "", "", 0, `invalid repo "../etc": may contain only ASCII letters, digits, '.', '_' and '-'`},
		{"repo quote", "", "", `shop"`, "", "", 0, `invalid repo "shop\"": may contain only ASCII letters, digits, '.', '_' and '-'`},
		{"repo newline", "", "", "shop\n", "", "", 0, `invalid repo "shop\n": may contain only ASCII letters, digits, '.', '_' and '-'`},
		{"repo 300", "", "", long, "", "", 0, `invalid repo "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"...(300 bytes): longer than 100 characters`},
		{"service upper", "Hello", "", "", "", "", 0, `invalid service "Hello": must be a DNS label: lowercase letters, digits and inner hyphens`},
		{"service dotdot", "..", "", "", "", "", 0, `invalid service "..": must be a DNS label: lowercase letters, digits and inner hyphens`},
		{"service leading dash", "-svc", "", "", "", "", 0, `invalid service "-svc": must be a DNS label: lowercase letters, digits and inner hyphens`},
		{"code version short", "", "", "", "abc123", "", 0, `invalid code-version "abc123": must be a 40-character lowercase hex commit sha or "latest"`},
		{"code version upper", "", "", "", strings.ToUpper(sha), "", 0, `invalid code-version "0123456789ABCDEF0123456789ABCDEF01234567": must be a 40-character lowercase hex commit sha or "latest"`},
		{"code version interpolation", "", "", "", "${x}", "", 0, `invalid code-version "${x}": must be a 40-character lowercase hex commit sha or "latest"`},
		{"pr zero", "", "", "", "", "", -1, `invalid pr "0": must be a positive pull request number`},
		{"pr negative", "", "", "", "", "", -5, `invalid pr "-5": must be a positive pull request number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			service, owner, repo, cv, br, pr := "hello-service", "acme", "shop", "latest", "main", 42
			field := strings.SplitN(tc.name, " ", 2)[0]
			switch field {
			case "branch":
				br = tc.br
			case "owner":
				owner = tc.owner
			case "repo":
				repo = tc.repo
			case "service":
				service = tc.service
			case "code":
				cv = tc.cv
			case "pr":
				pr = tc.pr
				if pr == -1 {
					pr = 0
				}
			}
			_, err := New(service, owner, repo, pr, cv, br, t0, time.Hour)
			if err == nil {
				t.Fatal("accepted")
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("not a FieldError: %v", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestValidateConsistency(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Environment)
		want   string
	}{
		{"wrong id", func(e *Environment) { e.ID = "00000000" }, `invalid id "00000000": does not match acme/shop#42 (want 191559f5)`},
		{"bad id", func(e *Environment) { e.ID = "../x" }, `invalid id "../x": must be 8 lowercase hex characters`},
		{"expires before", func(e *Environment) { e.ExpiresAt = e.CreatedAt }, `invalid expires-at "2026-11-28T05:00:00Z": must be after created-at 2026-11-28T05:00:00Z`},
		{"zero time", func(e *Environment) { e.CreatedAt = time.Time{} }, `invalid created-at "": must be set`},
		{"sub-second", func(e *Environment) { e.CreatedAt = e.CreatedAt.Add(5) }, `invalid created-at "2026-11-28T05:00:00.000000005Z": must be whole seconds`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := valid()
			tc.mutate(&e)
			err := e.Validate()
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
			if _, err := Render(e); err == nil {
				t.Error("Render accepted an invalid environment")
			}
		})
	}
}
