package envlist_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/envlist"
	"preview-environments/previewctl/pkg/managerdir"
)

var (
	t0 = time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	pr = envfile.Environment{Kind: envfile.KindPR, Service: "hello-service", Owner: "acme", Repo: "shop", PR: 42, ID: "191559f5",
		CodeVersion: "0123456789abcdef0123456789abcdef01234567", InfraBranch: "feature/x", CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour)}
	od = envfile.Environment{Kind: envfile.KindOnDemand, Name: "qa-checkout", Service: "hello-service", ID: "o6ef4836",
		CodeVersion: "latest", InfraBranch: "main", CreatedAt: t0.Add(-72 * time.Hour), ExpiresAt: t0.Add(-24 * time.Hour)}

	lsCols  = []envlist.Column{envlist.ID, envlist.Service, envlist.PR, envlist.Code, envlist.InfraBranch, envlist.Age, envlist.Expires}
	envCols = []envlist.Column{envlist.Name, envlist.ID, envlist.Service, envlist.Code, envlist.InfraBranch, envlist.Age, envlist.ExpiresAt}
)

func TestPrint(t *testing.T) {
	now := t0.Add(26 * time.Hour)
	for _, tc := range []struct {
		name   string
		json   bool
		envs   []envfile.Environment
		unread []error
		cols   []envlist.Column
		stdout string
		stderr string
		err    string // "" for none
	}{
		{
			name: "ls columns: short sha, the PR, an age, expiry to come and past",
			envs: []envfile.Environment{pr, od}, cols: lsCols,
			stdout: "" +
				"ID        SERVICE        PR                    CODE     INFRA BRANCH  AGE   EXPIRES\n" +
				"191559f5  hello-service  acme/shop#42          0123456  feature/x     1d2h  in 5d22h\n" +
				"o6ef4836  hello-service  ondemand:qa-checkout  latest   main          4d2h  expired 2d2h ago\n",
		},
		{
			name: "env ls columns: the name, the expiry's time",
			envs: []envfile.Environment{od}, cols: envCols,
			stdout: "" +
				"NAME         ID        SERVICE        CODE    INFRA BRANCH  AGE   EXPIRES\n" +
				"qa-checkout  o6ef4836  hello-service  latest  main          4d2h  expired 2d2h ago (2026-11-27T05:00:00Z)\n",
		},
		{
			name: "no environments: the header alone", cols: lsCols,
			stdout: "ID  SERVICE  PR  CODE  INFRA BRANCH  AGE  EXPIRES\n",
		},
		{
			name: "JSON: an indented array in envfile's field names", json: true, envs: []envfile.Environment{pr}, cols: lsCols,
			stdout: `[
  {
    "kind": "pr",
    "service": "hello-service",
    "owner": "acme",
    "repo": "shop",
    "pr": 42,
    "id": "191559f5",
    "code_version": "0123456789abcdef0123456789abcdef01234567",
    "infra_branch": "feature/x",
    "created_at": "2026-11-28T05:00:00Z",
    "expires_at": "2026-12-05T05:00:00Z"
  }
]
`,
		},
		{name: "JSON of none is [] not null", json: true, cols: lsCols, stdout: "[]\n"},
		{
			name: "unread files: the rest listed, each named on stderr, exit 1", json: true, envs: []envfile.Environment{},
			unread: []error{errors.New("a.tf:2: source must be a literal value"), errors.New("b.tf: service \"x\" is in the directory of \"y\"")},
			stdout: "[]\n",
			stderr: "previewctl: a.tf:2: source must be a literal value\npreviewctl: b.tf: service \"x\" is in the directory of \"y\"\n",
			err:    "2 environment files could not be read",
		},
		{
			name: "an unread file with a table", envs: []envfile.Environment{od}, cols: []envlist.Column{envlist.Name, envlist.Expires},
			unread: []error{errors.New("c.tf: bad")},
			stdout: "NAME         EXPIRES\nqa-checkout  expired 2d2h ago\n",
			stderr: "previewctl: c.tf: bad\n",
			err:    "1 environment files could not be read",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := envlist.Print(&out, &errb, tc.json, tc.envs, tc.unread, now, tc.cols...)
			checkPrinted(t, out.String(), errb.String(), err, tc.stdout, tc.stderr, tc.err)
			if want := map[bool]int{false: 0, true: 1}[tc.err != ""]; cmdutil.ExitCode(err) != want {
				t.Errorf("exit %d, want %d", cmdutil.ExitCode(err), want)
			}
		})
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPrintWriteError(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		var errb bytes.Buffer
		err := envlist.Print(failWriter{}, &errb, asJSON, []envfile.Environment{pr}, []error{errors.New("x.tf: bad")}, t0, envlist.ID)
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("json=%v: error %v, want the write's", asJSON, err)
		}
		if errb.Len() != 0 {
			t.Errorf("json=%v: stderr %q after a failed listing", asJSON, errb.String())
		}
		errb.Reset()
		err = envlist.PrintStacks(failWriter{}, &errb, asJSON, []envlist.Listed{{Environment: pr}}, []error{errors.New("x.tf: bad")}, t0, envlist.ID)
		if err == nil || !strings.Contains(err.Error(), "disk full") || errb.Len() != 0 {
			t.Errorf("PrintStacks json=%v: error %v, stderr %q; want the write's alone", asJSON, err, errb.String())
		}
	}
}

func TestHuman(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {59 * time.Second, "59s"}, {61 * time.Second, "1m1s"}, {90 * time.Minute, "1h30m"},
		{49 * time.Hour, "2d1h"}, {-2 * time.Hour, "2h0m"}, {24*time.Hour - time.Second, "23h59m"},
	} {
		if got := envlist.Human(tc.d); got != tc.want {
			t.Errorf("Human(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}

var (
	dataStack    = managerdir.Stack{ID: "hello-service-191559f5-data", Name: "hello-service-191559f5-data", Role: "data", ProjectRoot: "infra/data", DependsOn: []string{}}
	serviceStack = managerdir.Stack{ID: "hello-service-191559f5", Name: "hello-service-191559f5", Role: "service", ProjectRoot: "infra", DependsOn: []string{"hello-service-191559f5-data"}}
)

func TestPrintStacks(t *testing.T) {
	now := t0.Add(26 * time.Hour)
	single := serviceStack
	single.DependsOn = []string{}
	for _, tc := range []struct {
		name   string
		json   bool
		envs   []envlist.Listed
		unread []error
		stdout string
		stderr string
		err    string
	}{
		{
			name: "ls columns, then STACKS: dependencies first, the dependent's after ←",
			envs: []envlist.Listed{{Environment: pr, Stacks: []managerdir.Stack{dataStack, serviceStack}}, {Environment: od, Stacks: []managerdir.Stack{single}}},
			stdout: "" +
				"ID        SERVICE        PR                    CODE     INFRA BRANCH  AGE   EXPIRES           STACKS\n" +
				"191559f5  hello-service  acme/shop#42          0123456  feature/x     1d2h  in 5d22h          data, service←data\n" +
				"o6ef4836  hello-service  ondemand:qa-checkout  latest   main          4d2h  expired 2d2h ago  service\n",
		},
		{
			name: "no stacks: -", envs: []envlist.Listed{{Environment: od}},
			stdout: "" +
				"ID        SERVICE        PR                    CODE    INFRA BRANCH  AGE   EXPIRES           STACKS\n" +
				"o6ef4836  hello-service  ondemand:qa-checkout  latest  main          4d2h  expired 2d2h ago  -\n",
		},
		{name: "none: the header alone", stdout: "ID  SERVICE  PR  CODE  INFRA BRANCH  AGE  EXPIRES  STACKS\n"},
		{
			name: "JSON: the environment's fields unchanged, then its stacks", json: true,
			envs: []envlist.Listed{{Environment: pr, Stacks: []managerdir.Stack{dataStack, serviceStack}}},
			stdout: `[
  {
    "kind": "pr",
    "service": "hello-service",
    "owner": "acme",
    "repo": "shop",
    "pr": 42,
    "id": "191559f5",
    "code_version": "0123456789abcdef0123456789abcdef01234567",
    "infra_branch": "feature/x",
    "created_at": "2026-11-28T05:00:00Z",
    "expires_at": "2026-12-05T05:00:00Z",
    "stacks": [
      {
        "id": "hello-service-191559f5-data",
        "name": "hello-service-191559f5-data",
        "role": "data",
        "project_root": "infra/data",
        "depends_on": []
      },
      {
        "id": "hello-service-191559f5",
        "name": "hello-service-191559f5",
        "role": "service",
        "project_root": "infra",
        "depends_on": [
          "hello-service-191559f5-data"
        ]
      }
    ]
  }
]
`,
		},
		{
			name: "JSON: no stacks is [] not null", json: true, envs: []envlist.Listed{{Environment: od}},
			stdout: `[
  {
    "kind": "ondemand",
    "name": "qa-checkout",
    "service": "hello-service",
    "id": "o6ef4836",
    "code_version": "latest",
    "infra_branch": "main",
    "created_at": "2026-11-25T05:00:00Z",
    "expires_at": "2026-11-27T05:00:00Z",
    "stacks": []
  }
]
`,
		},
		{name: "JSON of none is [] not null", json: true, stdout: "[]\n"},
		{
			name: "unread files: the rest listed, each named, exit 1", envs: []envlist.Listed{{Environment: od}}, unread: []error{errors.New("c.tf: bad")},
			stdout: "" +
				"ID        SERVICE        PR                    CODE    INFRA BRANCH  AGE   EXPIRES           STACKS\n" +
				"o6ef4836  hello-service  ondemand:qa-checkout  latest  main          4d2h  expired 2d2h ago  -\n",
			stderr: "previewctl: c.tf: bad\n",
			err:    "1 environment files could not be read",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := envlist.PrintStacks(&out, &errb, tc.json, tc.envs, tc.unread, now, lsCols...)
			checkPrinted(t, out.String(), errb.String(), err, tc.stdout, tc.stderr, tc.err)
		})
	}
}

func TestStacksCell(t *testing.T) {
	w := func(role string, deps ...string) managerdir.Stack {
		return managerdir.Stack{ID: "x-" + role, Role: role, DependsOn: append([]string{}, deps...)}
	}
	for _, tc := range []struct {
		stacks []managerdir.Stack
		want   string
	}{
		{nil, "-"},
		{[]managerdir.Stack{w("service")}, "service"},
		{[]managerdir.Stack{dataStack, serviceStack}, "data, service←data"},
		{[]managerdir.Stack{w("data"), w("cache"), w("service", "x-data", "x-cache")}, "data, cache, service←data+cache"},
		{[]managerdir.Stack{w("service", "shared-db")}, "service←shared-db"},
	} {
		if got := envlist.StacksCell(tc.stacks); got != tc.want {
			t.Errorf("StacksCell(%v) = %q, want %q", tc.stacks, got, tc.want)
		}
	}
}

// checkPrinted compares what a print call wrote and returned with what a
// case wants (wantErr "" is no error).
func checkPrinted(t *testing.T, stdout, stderr string, err error, wantOut, wantErrOut, wantErr string) {
	t.Helper()
	if stdout != wantOut {
		t.Errorf("stdout\n%s\nwant\n%s", stdout, wantOut)
	}
	if stderr != wantErrOut {
		t.Errorf("stderr %q, want %q", stderr, wantErrOut)
	}
	gotErr := ""
	if err != nil {
		gotErr = err.Error()
	}
	if gotErr != wantErr {
		t.Errorf("error %q, want %q", gotErr, wantErr)
	}
}
