package ghevent

import (
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	base := `"base":{"ref":"main","repo":{"name":"shop","full_name":"acme/shop","default_branch":"trunk","owner":{"login":"acme"}}}`
	for _, tc := range []struct {
		name, payload string
		want          PullRequest
		err           string
	}{
		{"same repository", `{"number":42,"pull_request":{"number":42,"head":{"sha":"` + sha + `","ref":"feat/x","repo":{"full_name":"acme/shop"}},` + base + `}}`,
			PullRequest{Owner: "acme", Repo: "shop", Number: 42, HeadSHA: sha, HeadRef: "feat/x", DefaultBranch: "trunk"}, ""},
		{"fork", `{"number":7,"pull_request":{"number":7,"head":{"sha":"` + sha + `","ref":"main","repo":{"full_name":"mallory/shop"}},` + base + `}}`,
			PullRequest{Owner: "acme", Repo: "shop", Number: 7, HeadSHA: sha, HeadRef: "main", DefaultBranch: "trunk", Fork: true}, ""},
		{"number from the event", `{"number":9,"pull_request":{"head":{"sha":"` + sha + `","ref":"x"},` + base + `}}`,
			PullRequest{Owner: "acme", Repo: "shop", Number: 9, HeadSHA: sha, HeadRef: "x", DefaultBranch: "trunk"}, ""},
		{"hostile ref is data", `{"pull_request":{"number":1,"head":{"ref":"a\"; rm -rf /; ${x}"},` + base + `}}`,
			PullRequest{Owner: "acme", Repo: "shop", Number: 1, HeadRef: "a\"; rm -rf /; ${x}", DefaultBranch: "trunk"}, ""},
		{"not a PR event", `{"action":"push","ref":"refs/heads/main"}`, PullRequest{}, "no pull_request"},
		{"no repository", `{"pull_request":{"number":1}}`, PullRequest{}, "no base repository"},
		{"not JSON", `{`, PullRequest{}, "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tc.payload))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
