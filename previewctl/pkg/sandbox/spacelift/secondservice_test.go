package spacelift

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"preview-environments/previewctl/pkg/envfile"
)

// docBlocks reads the "<!-- append: FILE -->" code blocks of a doc page, in
// order: the procedure the page tells a person to follow.
func docBlocks(t *testing.T, page string) [][2]string {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- append: ([^ ]+) -->\n```hcl\n(.*?)```")
	var out [][2]string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	if len(out) == 0 {
		t.Fatalf("%s has no append blocks", page)
	}
	return out
}

// TestSecondServiceFromTheDocs follows docs/ADDING-A-SERVICE.md in a copy
// of the repository and gets a PR's environment of both services live at
// once, each on its own host.
func TestSecondServiceFromTheDocs(t *testing.T) {
	t.Parallel()
	const second = "goodbye-service"
	env := testManagerEnv()
	env["TF_VAR_goodbye_service_artifact_bucket"] = "goodbye-artifacts"
	h := &harness{t: t, repo: newGitRepo(t), dataDir: t.TempDir(), managerEnv: env}

	// Step 1: copy the folder (without hello-service's environment files).
	copyTree(t, filepath.Join(h.repo.dir, "manager", "hello-service"), filepath.Join(h.repo.dir, "manager", second))
	// Step 2: the blocks the page says to append.
	for _, blk := range docBlocks(t, filepath.Join(repoRoot(t), "docs", "ADDING-A-SERVICE.md")) {
		p := filepath.Join(h.repo.dir, filepath.FromSlash(blk[0]))
		old, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("the page appends to %s: %v", blk[0], err)
		}
		if err := os.WriteFile(p, append(append(old, '\n'), blk[1]...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h.repo.git("add", "-A")
	h.repo.git("commit", "-q", "-m", "add "+second)
	h.start()

	// Step 3's bucket, versioned, with the second service's artifact.
	if _, err := h.s3().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("goodbye-artifacts")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s3().PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{Bucket: aws.String("goodbye-artifacts"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if err := h.sb.S3().Put("goodbye-artifacts", "latest.zip", artifactZip(t)); err != nil {
		t.Fatal(err)
	}
	h.upload("latest")

	// Step 4: one PR, rendered for both services.
	files := map[string][]byte{}
	for _, svc := range []string{"hello-service", second} {
		e, err := envfile.New(svc, "acme", "shop", 71, "latest", "main", time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC), envfile.DefaultTTL)
		if err != nil {
			t.Fatal(err)
		}
		b, err := envfile.Render(e)
		if err != nil {
			t.Fatal(err)
		}
		files["manager/"+svc+"/environments/"+envfile.FileName(e)] = b
	}
	h.push(h.repo.commit("main", files))
	h.settle()
	if m := h.lastRun(managerID); m.State != StateFinished {
		t.Fatalf("manager run %s\n%s", m.State, h.log(m.ID))
	}

	id := envfile.ID("acme", "shop", 71)
	for _, svc := range []string{"hello-service", second} {
		req, _ := http.NewRequest(http.MethodGet, h.sb.URL()+"/", nil)
		req.Host = id + "." + svc + ".localhost"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := make([]byte, 256)
		n, _ := resp.Body.Read(body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body[:n]), "latest: ") {
			t.Fatalf("%s answers %d %q\n%s", req.Host, resp.StatusCode, body[:n], h.dump())
		}
		if r := h.lastRun(svc + "-" + id); r.State != StateFinished {
			t.Fatalf("stack %s-%s: %s", svc, id, r.State)
		}
	}
	// The data plane holds the second service's environment as its own.
	for _, e := range h.sb.Environments() {
		if e.Service == second && e.ID == id {
			return
		}
	}
	t.Fatalf("no %s environment %s in the data plane: %+v", second, id, h.sb.Environments())
}
