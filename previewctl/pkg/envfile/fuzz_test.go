package envfile

import (
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzRender: for any input either Render refuses it, or the file parses
// back to the same environment and holds no live interpolation. A second
// property drives the unvalidated renderer with arbitrary strings, so the
// escaping itself (not only the validation in front of it) is proven to
// keep "${", "%{", quotes and backslashes literal.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"main", `x${file("/etc/passwd")}`, "%{for x in y}", `"`, `\`, "\\\"", "a\nb", "$${x}", "$$${x}", "%%{x}",
		"ü/日本", "..", "-x", "\u202e", "\x00", "}", "${", "%{", "a$", "a%", "${}", "\"; evil = \"",
		"feature/infra", "0day", "x.y_z-1",
	} {
		f.Add("acme", "shop", 42, s, "latest")
		f.Add(s, s, 1, "main", s)
	}
	f.Fuzz(func(t *testing.T, owner, repo string, pr int, branch, cv string) {
		e, err := New("hello-service", owner, repo, pr, cv, branch, t0, time.Hour)
		if err == nil {
			src, err := Render(e)
			if err != nil {
				t.Fatalf("New accepted but Render refused: %v", err)
			}
			assertAllLiteral(t, src)
			back, err := Parse(FileName(e), src)
			if err != nil {
				t.Fatalf("parse(render(e)): %v\n%s", err, src)
			}
			if !back.Equal(e) {
				t.Fatalf("round trip: got %+v, want %+v", back, e)
			}
		}

		if !utf8.ValidString(owner) || !utf8.ValidString(repo) || !utf8.ValidString(branch) || !utf8.ValidString(cv) {
			return // HCL files are UTF-8; validation refuses anything else
		}
		raw := Environment{Service: "hello-service", Owner: owner, Repo: repo, PR: 1, ID: "0000abcd",
			CodeVersion: cv, InfraBranch: branch, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		src := render(raw)
		assertAllLiteral(t, src)
		back, err := parseBody("fuzz.tf", src)
		if err != nil {
			t.Fatalf("parseBody(render(raw)): %v\n%s", err, src)
		}
		// HCL normalises string literals to NFC when it parses them (U+2000
		// comes back as U+2002), one more reason validation keeps names ASCII.
		nfc := norm.NFC.String
		if back.Owner != nfc(owner) || back.Repo != nfc(repo) || back.InfraBranch != nfc(branch) || back.CodeVersion != nfc(cv) {
			t.Fatalf("strings changed in the round trip:\n got %q %q %q %q\nwant %q %q %q %q",
				back.Owner, back.Repo, back.InfraBranch, back.CodeVersion, owner, repo, branch, cv)
		}
	})
}
