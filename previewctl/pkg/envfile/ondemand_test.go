package envfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func onDemand(t testing.TB, name string) Environment {
	t.Helper()
	e, err := NewOnDemand("hello-service", name, "latest", "main", t0, DefaultOnDemandTTL)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOnDemandID(t *testing.T) {
	// The README's one-liner, pinned so a change of scheme is noticed:
	// printf 'o%s' "$(printf '%s' 'ondemand:qa-checkout' | sha256sum | cut -c1-7)"
	if got := OnDemandID("qa-checkout"); got != "o6ef4836" {
		t.Errorf("OnDemandID(qa-checkout) = %s, want o6ef4836", got)
	}
	sum := sha256.Sum256([]byte("ondemand:abc"))
	if got, want := OnDemandID("abc"), "o"+hex.EncodeToString(sum[:])[:7]; got != want {
		t.Errorf("OnDemandID(abc) = %s, want %s", got, want)
	}
	e := onDemand(t, "qa-checkout")
	if e.ID != "o6ef4836" || e.Kind != KindOnDemand || !e.OnDemand() || e.Key() != "ondemand:qa-checkout" || e.Subject() != "ondemand:qa-checkout" {
		t.Errorf("environment = %+v (key %s)", e, e.Key())
	}
	if got := FileName(e); got != "ondemand-qa-checkout-o6ef4836.tf" || !IsEnvFileName(got) {
		t.Errorf("FileName = %s (IsEnvFileName %v)", got, IsEnvFileName(got))
	}
	if got := ModuleName(e); got != "env_o6ef4836" {
		t.Errorf("ModuleName = %s", got)
	}
	if !e.ExpiresAt.Equal(t0.Add(DefaultOnDemandTTL)) || !e.CreatedAt.Equal(t0) {
		t.Errorf("times %s %s", e.CreatedAt, e.ExpiresAt)
	}
}

// TestOnDemandIDNeverAPRID is the proof that the two ID forms cannot meet.
// Both validations are anchored, fixed-length (8) patterns of one
// character class per position, so two strings can match both only if
// some first character matches both first classes. None does: a PR ID
// starts with a hex digit, an on-demand ID with "o". Each generator is
// then shown to produce only its own form, and Validate to refuse the
// other kind's ID.
func TestOnDemandIDNeverAPRID(t *testing.T) {
	for c := 0; c < 256; c++ {
		s := string([]byte{byte(c)}) + "0000000"
		if idRE.MatchString(s) && onDemandIDRE.MatchString(s) {
			t.Fatalf("%q matches both ID forms", s)
		}
	}
	for i := range 20000 {
		name := fmt.Sprintf("env-%d", i)
		od := OnDemandID(name)
		pr := ID("acme", fmt.Sprintf("repo%d", i%97), i+1)
		switch {
		case !onDemandIDRE.MatchString(od) || idRE.MatchString(od):
			t.Fatalf("OnDemandID(%s) = %q is not (only) the on-demand form", name, od)
		case !idRE.MatchString(pr) || onDemandIDRE.MatchString(pr):
			t.Fatalf("PR ID %q is not (only) the PR form", pr)
		case ValidateService(od) != nil:
			t.Fatalf("OnDemandID(%s) = %q is not a DNS label", name, od)
		}
	}
	// Validate holds each kind to its own form.
	pr := valid()
	pr.ID = OnDemandID("qa-checkout")
	if err := pr.Validate(); err == nil || !strings.Contains(err.Error(), "must be 8 lowercase hex characters") {
		t.Errorf("a PR with an on-demand ID: %v", err)
	}
	od := onDemand(t, "qa-checkout")
	od.ID = valid().ID
	if err := od.Validate(); err == nil || !strings.Contains(err.Error(), `must be "o" and 7 lowercase hex characters`) {
		t.Errorf("an on-demand environment with a PR ID: %v", err)
	}
	// And so does the collision check: keys of the two kinds never agree.
	if CheckCollision(onDemand(t, "qa-checkout"), []Environment{valid()}) != nil {
		t.Error("an on-demand environment collides with a PR")
	}
}

func TestOnDemandBadNames(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"QA-Checkout", `invalid name "QA-Checkout": must be lowercase`},
		{strings.Repeat("a", 200), `invalid name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"...(200 bytes): longer than 40 characters`},
		{"../x", `invalid name "../x": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{"${x}", `invalid name "${x}": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{"", `invalid name "": must not be empty`},
		{"qa", `invalid name "qa": shorter than 3 characters`},
		{"-qa", `invalid name "-qa": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{"qa-", `invalid name "qa-": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{"1qa", `invalid name "1qa": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{"qa_checkout", `invalid name "qa_checkout": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{"qa.checkout", `invalid name "qa.checkout": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{"qa checkout", `invalid name "qa checkout": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{"qa\nx", `invalid name "qa\nx": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{"q\u0430-x", `invalid name "q\u0430-x": must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
		{strings.Repeat("a", 41), `invalid name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"...(41 bytes): longer than 40 characters`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewOnDemand("hello-service", tc.name, "latest", "main", t0, time.Hour)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "name" {
				t.Fatalf("got %v, want a FieldError on name", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
	for _, ok := range []string{"qa-checkout", "abc", strings.Repeat("a", 40), "a1-b2", "x--y"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q): %v", ok, err)
		}
	}
	// The other inputs are checked as for a PR, in the CLI's order.
	for _, tc := range []struct {
		service, name, cv, br string
		ttl                   time.Duration
		want                  string
	}{
		{"Hello", "qa", "x", "", time.Hour, `invalid service "Hello"`},
		{"hello-service", "qa", "x", "", time.Hour, `invalid name "qa"`},
		{"hello-service", "qa-x", "x", "", time.Hour, `invalid code-version "x"`},
		{"hello-service", "qa-x", "latest", "a..b", time.Hour, `invalid infra-branch "a..b"`},
		{"hello-service", "qa-x", "latest", "main", MaxTTL + time.Second, `invalid ttl "2160h0m1s"`},
		{"hello-service", "qa-x", "latest", "main", 0, `invalid ttl "0s"`},
	} {
		_, err := NewOnDemand(tc.service, tc.name, tc.cv, tc.br, t0, tc.ttl)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("NewOnDemand(%q, %q, %q, %q, %s) = %v, want %s...", tc.service, tc.name, tc.cv, tc.br, tc.ttl, err, tc.want)
		}
	}
}

func TestOnDemandRenderGolden(t *testing.T) {
	e, err := NewOnDemand("hello-service", "qa-checkout", "0123456789abcdef0123456789abcdef01234567", "feature/x", t0, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Render(e)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", "ondemand.tf")
	if *update {
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
	assertAllLiteral(t, got)
	back, err := Parse(FileName(e), got)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(e) || back.Kind != KindOnDemand {
		t.Errorf("round trip: got %+v, want %+v", back, e)
	}
}

const goodOnDemand = `module "env_o6ef4836" {
  source         = "../template"
  environment_id = "o6ef4836"
  service        = "hello-service"
  kind           = "ondemand"
  name           = "qa-checkout"
  code_version   = "latest"
  infra_branch   = "main"
  created_at     = "2026-11-28T05:00:00Z"
  expires_at     = "2026-11-30T05:00:00Z"
  shared         = var.shared
}
`

func TestParseOnDemand(t *testing.T) {
	const file = "ondemand-qa-checkout-o6ef4836.tf"
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{name: "valid"},
		{name: "kind pr", old: `kind           = "ondemand"`, new: `kind           = "pr"`, want: file + `:5: kind must be "ondemand" (a PR environment's file sets no kind), got "pr"`},
		{name: "kind interpolated", old: `kind           = "ondemand"`, new: `kind           = "${var.k}"`, want: file + `:5: kind must be a literal value, not an expression`},
		{name: "pr argument too", old: `  shared`, new: "  pr_number      = 1\n  shared", want: file + `:11: unexpected argument "pr_number" in an on-demand environment file`},
		{name: "name missing", old: `  name           = "qa-checkout"` + "\n", want: file + `:1: missing argument "name"`},
		{name: "name not a string", old: `name           = "qa-checkout"`, new: `name           = 7`, want: file + `:6: name must be a string`},
		{name: "name hostile", old: `name           = "qa-checkout"`, new: `name           = "../x"`, want: file + `:1: invalid name "../x"`},
		{name: "id of another name", old: goodOnDemand, new: strings.ReplaceAll(goodOnDemand, "o6ef4836", "o0000000"), want: file + `:1: invalid id "o0000000": does not match on-demand name qa-checkout (want o6ef4836)`},
		{name: "PR-form id", old: goodOnDemand, new: strings.ReplaceAll(goodOnDemand, "o6ef4836", "191559f5"), want: file + `:1: invalid id "191559f5": must be "o" and 7 lowercase hex characters`},
		{name: "label", old: `module "env_o6ef4836"`, new: `module "env_o0000000"`, want: file + `:1: module name "env_o0000000" does not match environment_id (want "env_o6ef4836")`},
		{name: "file name", file: "ondemand-other-o6ef4836.tf", want: "ondemand-other-o6ef4836.tf:1: file name does not match its contents (want ondemand-qa-checkout-o6ef4836.tf)"},
		{name: "name on a PR file", file: FileName(valid()), old: goodOnDemand, new: strings.Replace(goodFile, "  shared", "  name           = \"qa-checkout\"\n  shared", 1), want: FileName(valid()) + `:12: unexpected argument "name" in a PR environment file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := goodOnDemand
			if tc.old != "" {
				if !strings.Contains(src, tc.old) {
					t.Fatalf("test bug: %q not in the file", tc.old)
				}
				src = strings.Replace(src, tc.old, tc.new, 1)
			}
			name := file
			if tc.file != "" {
				name = tc.file
			}
			e, err := Parse(name, []byte(src))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if e.Name != "qa-checkout" || e.ID != "o6ef4836" || !e.OnDemand() || e.Owner != "" || e.PR != 0 {
					t.Errorf("parsed %+v", e)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestOnDemandDirAndPrepare(t *testing.T) {
	mdir, edir := managerFixture(t)
	pr := valid()
	od := onDemand(t, "qa-checkout")
	for _, e := range []Environment{pr, od} {
		if _, err := WriteAtomic(edir, e); err != nil {
			t.Fatal(err)
		}
	}
	envs, errs := ReadDir(edir)
	if len(errs) != 0 || len(envs) != 2 {
		t.Fatalf("ReadDir: %+v %v", envs, errs)
	}
	// Sorted by file name: acme-... before ondemand-...
	if !envs[0].Equal(pr) || !envs[1].Equal(od) {
		t.Errorf("ReadDir = %+v", envs)
	}

	// A later create of the same name keeps created_at (as a render does);
	// another name is not a collision.
	later, _ := NewOnDemand("hello-service", "qa-checkout", "latest", "main", t0.Add(time.Hour), time.Hour)
	got, err := Prepare(mdir, later)
	if err != nil || !got.CreatedAt.Equal(t0) {
		t.Errorf("Prepare same name: %v, created %s", err, got.CreatedAt)
	}
	if _, err := Prepare(mdir, onDemand(t, "qa-other")); err != nil {
		t.Errorf("Prepare other name: %v", err)
	}
	// A forged file claiming the name's ID for another name collides.
	forged := strings.Replace(goodOnDemand, `name           = "qa-checkout"`, `name           = "evil"`, 1)
	if err := os.WriteFile(filepath.Join(edir, "zzz.tf"), []byte(forged), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(mdir, later); !errors.Is(err, ErrCollision) {
		t.Errorf("forged claim: %v", err)
	}
	if err := os.Remove(filepath.Join(edir, "zzz.tf")); err != nil {
		t.Fatal(err)
	}
	// So does a PR's file carrying the ID.
	prClaim := strings.Replace(goodFile, `"191559f5"`, `"o6ef4836"`, 2)
	if err := os.WriteFile(filepath.Join(edir, "zzz.tf"), []byte(prClaim), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(mdir, later); !errors.Is(err, ErrCollision) {
		t.Errorf("PR file claiming the ID: %v", err)
	}

	if err := Remove(edir, od); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(edir, FileName(od))); !os.IsNotExist(err) {
		t.Errorf("not removed: %v", err)
	}
}

// A template from before on-demand environments (no kind or name, pr_*
// required) refuses an on-demand file before it is written, saying why.
func TestOnDemandAgainstOldTemplate(t *testing.T) {
	vars, err := ReadTemplateVariables(filepath.Join("testdata", "manager", "hello-service", "template"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckAgainstTemplate(onDemand(t, "qa-checkout"), vars); err != nil {
		t.Errorf("fixture template: %v", err)
	}
	if real := filepath.Join("..", "..", "..", "manager", "hello-service", "template"); dirExists(real) {
		rv, err := ReadTemplateVariables(real)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckAgainstTemplate(onDemand(t, "qa-checkout"), rv); err != nil {
			t.Errorf("real template: %v", err)
		}
	}
	old := map[string]Variable{}
	for k, v := range vars {
		if k == "kind" || k == "name" {
			continue
		}
		if strings.HasPrefix(k, "pr_") {
			v.Required = true
		}
		old[k] = v
	}
	if err := CheckAgainstTemplate(valid(), old); err != nil {
		t.Errorf("a PR against the old template: %v", err)
	}
	err = CheckAgainstTemplate(onDemand(t, "qa-checkout"), old)
	for _, want := range []string{"on-demand environment does not fit the template", "argument kind is not a variable of the template", "template variable pr_owner is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}

// FuzzOnDemandName: any name is refused as the name, or makes a file that
// parses back to the same environment with only literals in it.
func FuzzOnDemandName(f *testing.F) {
	for _, s := range []string{"qa-checkout", "QA", "../x", "${x}", "%{x}", `"`, "a\nb", "abc-", strings.Repeat("z", 41), "ondemand", "o1234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		e, err := NewOnDemand("hello-service", name, "latest", "main", t0, time.Hour)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "name" {
				t.Fatalf("refused as something else than the name: %v", err)
			}
			return
		}
		src, err := Render(e)
		if err != nil {
			t.Fatal(err)
		}
		assertAllLiteral(t, src)
		back, err := Parse(FileName(e), src)
		if err != nil || !back.Equal(e) || !IsEnvFileName(FileName(e)) {
			t.Fatalf("round trip: %v %+v", err, back)
		}
	})
}
