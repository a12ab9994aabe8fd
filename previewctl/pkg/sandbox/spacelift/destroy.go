package spacelift

import "context"

// Destructors: the provider deletes a stack with destroy_resources
// (providerapi's DeleteStack), the engine marks it DELETING and queues its
// destroy run, and only once that run has finished does the stack go, with
// its variables and attachments; the provider's destructor waits for that.
// A failed destroy puts the stack in FAILED and keeps it (execute).

// requestDestroy marks a stack DELETING and queues its destroy run, once.
func (e *Engine) requestDestroy(ctx context.Context, s Stack, cause string) error {
	if s.State != StackDeleting {
		if err := e.st.SetStackState(ctx, s.ID, StackDeleting); err != nil {
			return err
		}
		e.emit(Event{Kind: "stack", StackID: s.ID, State: StackDeleting})
	}
	runs, err := e.st.Runs(ctx, s.ID, 50)
	if err != nil {
		return err
	}
	for _, x := range runs {
		if x.Type == RunDestroy && !Terminal(x.State) {
			return nil
		}
	}
	head := s.TrackedCommit
	if h, err := e.src.Head(ctx, s.Repository, s.Branch); err == nil {
		head = h
	}
	_, err = e.enqueue(ctx, Run{StackID: s.ID, Type: RunDestroy, Branch: s.Branch, Commit: head,
		TriggeredBy: "destructor", Cause: cause})
	return err
}

// finishDestroy deletes a stack whose destroy run has finished: only now
// may its variables, attachments and the stack itself go, which is what
// the provider's destructor waits for.
func (e *Engine) finishDestroy(ctx context.Context, s Stack, logf logFunc) {
	if err := e.st.DeleteStack(ctx, s.ID); err != nil {
		logf("error: %v", err)
		return
	}
	logf("stack %s deleted after its destroy run", s.ID)
	e.emit(Event{Kind: "stack", StackID: s.ID, State: "DELETED"})
}
