// Package dashboard serves the sandbox's live page: environments with their
// PR, code version and state, the Spacelift stand-in's stacks and runs (state
// history, cause, log), and the latest policy evaluations.
//
// The server renders everything with html/template; the page's small script
// only swaps in fragments the server rendered, which it receives as
// server-sent events whenever the engine reports a change or the periodic
// check sees different content. Without JavaScript the page still reads (and
// refreshes itself every ten seconds).
package dashboard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"preview-environments/previewctl/pkg/sandbox/spacelift"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Paths the dashboard answers besides the page itself ("GET /{$}").
const (
	FragmentPath = "/dashboard/fragment"
	// LogPath is one run's log as an HTML fragment: /dashboard/runs/{id}/log.
	LogPath      = "/dashboard/runs/{id}/log"
	EventsPath   = "/dashboard/events"
	StaticPrefix = "/dashboard/static/"
)

// Preview is a PR's preview in the platform API's JSON shape (GET /api/prs);
// the dashboard reads that contract rather than the platform's Go type so
// the platform can mount the dashboard without an import cycle.
type Preview struct {
	Owner         string    `json:"owner"`
	Repo          string    `json:"repo"`
	Number        int       `json:"number"`
	EnvironmentID string    `json:"environment_id"`
	State         string    `json:"state"`
	Version       string    `json:"version"`
	HeadSHA       string    `json:"head_sha"`
	URL           string    `json:"url"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// PreviewsFunc lists the previews of every PR.
type PreviewsFunc func(context.Context) ([]Preview, error)

// PreviewsFrom adapts any lister whose items marshal to the Preview JSON
// shape (the platform's Previews method).
func PreviewsFrom[T any](list func(context.Context) ([]T, error)) PreviewsFunc {
	return func(ctx context.Context) ([]Preview, error) {
		items, err := list(ctx)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(items)
		if err != nil {
			return nil, fmt.Errorf("dashboard: encode previews: %w", err)
		}
		var out []Preview
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("dashboard: decode previews: %w", err)
		}
		return out, nil
	}
}

// Engine is what the dashboard reads of the Spacelift stand-in; the
// platform passes its *spacelift.Engine.
type Engine interface {
	// Stacks lists every stack, each with Role and DependsOn.
	Stacks(ctx context.Context) ([]spacelift.Stack, error)
	// Dependencies lists every stack dependency with its references.
	Dependencies(ctx context.Context) ([]spacelift.Dependency, error)
	// Runs lists a stack's runs (every stack's when stackID is ""),
	// newest first.
	Runs(ctx context.Context, stackID string, limit int) ([]spacelift.Run, error)
	// Run reads one run; spacelift.ErrNotFound when there is none.
	Run(ctx context.Context, id string) (spacelift.Run, error)
	Logs(ctx context.Context, runID string) ([]spacelift.LogLine, error)
	LogLines(ctx context.Context, runID string) (int, error)
	// Evaluations lists the latest policy decisions, newest first.
	Evaluations(ctx context.Context, limit int) ([]spacelift.PolicyEvaluation, error)
	// Subscribe announces the engine's changes until cancel is called.
	Subscribe() (events <-chan spacelift.Event, cancel func())
}

// DataPlane is what the dashboard reads of the sandbox itself; the
// platform builds one from its *sandbox.Sandbox with DataPlaneOf.
type DataPlane interface {
	// URL is the sandbox's base URL (http://host:port).
	URL() string
	// EnvironmentURL is where an environment serves.
	EnvironmentURL(id, service string) string
	// Deployed maps each environment the data plane serves to the code
	// version it serves.
	Deployed(ctx context.Context) (map[string]string, error)
}

// DataPlaneOf makes a DataPlane of the sandbox's base URL, its
// environment URLs and a lister of the environments it serves whose items
// marshal to the API's {"id", "version", ...} shape (Sandbox.Environments),
// so the dashboard does not import the sandbox package.
func DataPlaneOf[T any](url func() string, environmentURL func(id, service string) string, list func() []T) DataPlane {
	return funcPlane{url: url, envURL: environmentURL, list: func() any { return list() }}
}

type funcPlane struct {
	url    func() string
	envURL func(id, service string) string
	list   func() any
}

func (p funcPlane) URL() string                              { return p.url() }
func (p funcPlane) EnvironmentURL(id, service string) string { return p.envURL(id, service) }

func (p funcPlane) Deployed(context.Context) (map[string]string, error) {
	b, err := json.Marshal(p.list())
	if err != nil {
		return nil, fmt.Errorf("dashboard: encode environments: %w", err)
	}
	var envs []struct {
		ID      string `json:"id"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &envs); err != nil {
		return nil, fmt.Errorf("dashboard: decode environments: %w", err)
	}
	out := make(map[string]string, len(envs))
	for _, e := range envs {
		out[e.ID] = e.Version
	}
	return out, nil
}

// Source is what the dashboard shows.
type Source struct {
	Engine    Engine
	DataPlane DataPlane
	Previews  PreviewsFunc
	// Service is the default service name for environments without a stack.
	Service string
}

// Limits keep a page that stays open for days cheap to render.
const (
	runsPerStack   = 8
	orphanRuns     = 20
	logLinesPerRun = 300
	evaluations    = 25
	// checkEvery is how often an open event stream re-renders to catch
	// changes the engine does not announce (CI steps, ages, expiries).
	checkEvery = time.Second
	pingEvery  = 15 * time.Second
)

// Dashboard is the page and its event stream.
type Dashboard struct {
	src    Source
	tmpl   *template.Template
	static http.Handler
	now    func() time.Time

	mu      sync.Mutex
	down    map[*http.Server]chan struct{}
	subs    map[chan []byte]struct{}
	running bool // the render loop runs while anyone watches
}

// New prepares the dashboard; Mount adds it to the sandbox's mux.
func New(src Source) *Dashboard {
	if src.Service == "" {
		src.Service = "hello-service"
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return &Dashboard{
		src:    src,
		tmpl:   template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")),
		static: http.StripPrefix(StaticPrefix, http.FileServerFS(sub)),
		now:    time.Now,
		down:   map[*http.Server]chan struct{}{},
		subs:   map[chan []byte]struct{}{},
	}
}

// Mount registers the page, its fragment, its event stream and its assets;
// only these paths, so the sandbox's other routes keep their own 404s.
func (d *Dashboard) Mount(handle func(pattern string, h http.Handler)) {
	handle("GET /{$}", http.HandlerFunc(d.page))
	handle("GET "+FragmentPath, http.HandlerFunc(d.fragment))
	handle("GET "+LogPath, http.HandlerFunc(d.runLog))
	handle("GET "+EventsPath, http.HandlerFunc(d.events))
	handle("GET "+StaticPrefix, d.static)
}

func (d *Dashboard) page(w http.ResponseWriter, r *http.Request) {
	v := d.collect(r.Context())
	d.write(w, "page", v)
}

func (d *Dashboard) fragment(w http.ResponseWriter, r *http.Request) {
	v := d.collect(r.Context())
	d.write(w, "fragment", v)
}

func (d *Dashboard) runLog(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := d.src.Engine.Run(r.Context(), id); errors.Is(err, spacelift.ErrNotFound) {
		http.Error(w, "no run "+id, http.StatusNotFound)
		return
	} else if err != nil {
		http.Error(w, "run "+id+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	lines, err := d.src.Engine.Logs(r.Context(), id)
	if err != nil {
		http.Error(w, "log of run "+id+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	v := LogView{RunID: id, Lines: lines}
	if len(lines) > logLinesPerRun {
		v.Cut = len(lines) - logLinesPerRun
		v.Lines = lines[v.Cut:]
	}
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, "log", v); err != nil {
		http.Error(w, "dashboard: render log: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (d *Dashboard) write(w http.ResponseWriter, name string, v View) {
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		http.Error(w, "dashboard: render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
	_, _ = w.Write(buf.Bytes())
}

// events streams the rendered fragment whenever it changes: at once on
// connect, then whatever the shared render loop sends.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "dashboard: streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx := r.Context()
	down := d.shutdownSignal(r)
	updates := d.watch()
	defer d.unwatch(updates)

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// A client that lost the stream comes back quickly.
	fmt.Fprint(w, "retry: 1000\n\n")

	var last []byte
	send := func(frag []byte) error {
		if bytes.Equal(frag, last) {
			return nil
		}
		last = frag
		if err := writeEvent(w, "fragment", frag); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	}
	first, err := d.render(ctx)
	if err != nil || send(first) != nil {
		return
	}
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-down:
			return
		case frag := <-updates:
			if send(frag) != nil {
				return
			}
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

func (d *Dashboard) render(ctx context.Context) ([]byte, error) {
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, "fragment", d.collect(ctx)); err != nil {
		return nil, fmt.Errorf("dashboard: render fragment: %w", err)
	}
	return buf.Bytes(), nil
}

// watch registers a stream with the render loop, starting the loop if it
// is the first: one render per check however many tabs are open.
func (d *Dashboard) watch() chan []byte {
	ch := make(chan []byte, 1)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.subs[ch] = struct{}{}
	if !d.running {
		d.running = true
		go d.loop()
	}
	return ch
}

func (d *Dashboard) unwatch(ch chan []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.subs, ch)
}

// loop re-renders soon after engine events (they come in bursts, one per
// run state, so one render after a short quiet spell covers a burst) and
// on a periodic check for what the engine does not announce (CI steps,
// ages), and hands changed fragments to every stream. It stops when the
// last stream goes.
func (d *Dashboard) loop() {
	engineEvents, cancel := d.src.Engine.Subscribe()
	defer cancel()
	check := time.NewTicker(checkEvery)
	defer check.Stop()
	var last [32]byte
	var debounce <-chan time.Time
	for {
		select {
		case <-engineEvents:
			if debounce == nil {
				debounce = time.After(50 * time.Millisecond)
			}
			continue
		case <-debounce:
			debounce = nil
		case <-check.C:
		}
		d.mu.Lock()
		if len(d.subs) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		frag, err := d.render(ctx)
		stop()
		if err != nil {
			continue
		}
		sum := sha256.Sum256(frag)
		if sum == last {
			continue
		}
		last = sum
		d.mu.Lock()
		for ch := range d.subs {
			// Only the newest fragment matters to a slow stream.
			select {
			case <-ch:
			default:
			}
			ch <- frag
		}
		d.mu.Unlock()
	}
}

// writeEvent writes one server-sent event; every line of data gets its own
// "data:" field, as the format requires.
func writeEvent(w http.ResponseWriter, name string, data []byte) error {
	var buf bytes.Buffer
	buf.WriteString("event: " + name + "\n")
	for _, line := range bytes.Split(data, []byte("\n")) {
		buf.WriteString("data: ")
		buf.Write(bytes.TrimSuffix(line, []byte("\r")))
		buf.WriteByte('\n')
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// shutdownSignal is closed when the serving http.Server shuts down: an
// event stream never goes idle, so without it Shutdown would wait out its
// whole grace period for every open browser tab.
func (d *Dashboard) shutdownSignal(r *http.Request) <-chan struct{} {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ch, ok := d.down[srv]
	if !ok {
		ch = make(chan struct{})
		d.down[srv] = ch
		srv.RegisterOnShutdown(func() { close(ch) })
	}
	return ch
}

// errText is what a failed read shows on the page instead of the section.
func errText(what string, err error) string {
	if errors.Is(err, context.Canceled) {
		return ""
	}
	return what + ": " + err.Error()
}
