package githost

import (
	"sync"
	"time"
)

// EventType is GitHub's webhook event name.
type EventType string

const (
	EventPush        EventType = "push"
	EventPullRequest EventType = "pull_request"
)

// Pull request actions the host emits.
const (
	ActionOpened      = "opened"
	ActionSynchronize = "synchronize"
	ActionClosed      = "closed"
)

// Event is one webhook-like notification. Exactly one of Push and
// PullRequest is set, as Type says.
type Event struct {
	// Seq increases by one per event, across repositories.
	Seq         uint64
	Type        EventType
	Owner       string
	Repo        string
	Push        *PushEvent
	PullRequest *PullRequestEvent
}

// PushEvent is a branch update (or creation: Before is ZeroSHA).
type PushEvent struct {
	Branch string
	Before string
	After  string
	// Files are the paths changed between Before and After; for a new
	// branch, between its merge base with the default branch and After (the
	// whole tree when there is none), like Spacelift's affected_files.
	Files   []string
	Pusher  string
	Message string // of the head commit
	Time    time.Time
}

// PullRequestEvent is a pull request opened, synchronized (its head branch
// moved) or closed.
type PullRequestEvent struct {
	Action string
	PR     PR
	// Files are the PR's changed files (merge-base diff, as GitHub's
	// "files" of a pull request): Spacelift's pull_request.diff.
	Files []string
}

// events fans events out to subscribers, each with its own unbounded queue
// and goroutine, so a slow subscriber never holds up a commit or another
// subscriber, and each sees every event in Seq order.
type events struct {
	mu     sync.Mutex
	seq    uint64
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []Event
	closed bool
	done   chan struct{}
}

func (e *events) init() { e.subs = map[*subscriber]struct{}{} }

// emit is called with the repository lock held, so per repository the
// order of Seq is the order of the ref updates.
func (e *events) emit(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.seq++
	ev.Seq = e.seq
	for s := range e.subs {
		s.mu.Lock()
		s.queue = append(s.queue, ev)
		s.mu.Unlock()
		s.cond.Signal()
	}
}

// Subscribe calls fn with every event emitted from now on, in order, on a
// goroutine of its own. The returned function unsubscribes: it waits for a
// call of fn in progress to return and drops what is still queued, so fn
// must not call it. Events are not persisted: after a restart, consumers
// reconcile from Branches and ListPRs.
func (h *Host) Subscribe(fn func(Event)) (unsubscribe func()) {
	s := &subscriber{done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	h.ev.mu.Lock()
	if h.ev.closed {
		h.ev.mu.Unlock()
		close(s.done)
		return func() {}
	}
	h.ev.subs[s] = struct{}{}
	h.ev.mu.Unlock()
	go func() {
		defer close(s.done)
		for {
			s.mu.Lock()
			for len(s.queue) == 0 && !s.closed {
				s.cond.Wait()
			}
			if s.closed {
				s.mu.Unlock()
				return
			}
			ev := s.queue[0]
			s.queue[0] = Event{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			fn(ev)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.ev.mu.Lock()
			delete(h.ev.subs, s)
			h.ev.mu.Unlock()
			s.stop()
		})
	}
}

func (s *subscriber) stop() {
	s.mu.Lock()
	s.closed = true
	s.queue = nil
	s.mu.Unlock()
	s.cond.Broadcast()
	<-s.done
}

func (e *events) closeAll() {
	e.mu.Lock()
	e.closed = true
	subs := e.subs
	e.subs = map[*subscriber]struct{}{}
	e.mu.Unlock()
	for s := range subs {
		s.stop()
	}
}
