package providerapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"preview-environments/previewctl/internal/sandbox/slapi"
	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
)

// The stand-in manages each stack's state as Spacelift does, served to
// tofu through OpenTofu's http backend (GET/POST/DELETE the state,
// LOCK/UNLOCK with lock info), kept in the store (one transaction per
// write).

// maxStateBytes bounds one state upload (a manager of 10,000 environments
// writes a few tens of MB).
const maxStateBytes = 512 << 20

type lockInfo struct {
	ID string `json:"ID"`
}

func (b *Backend) stateHandler() http.Handler {
	mux := http.NewServeMux()
	auth := func(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			id := r.PathValue("stack")
			_, tok, ok := r.BasicAuth()
			stack, err := b.StackForToken(tok)
			if !ok || err != nil {
				http.Error(w, "state of "+id+": a run token is required", http.StatusUnauthorized)
				return
			}
			// External state access is off, as it is by default on
			// Spacelift: a run reads and writes its own stack's state only.
			if stack != id {
				http.Error(w, "state of "+id+": the token belongs to a run of "+stack, http.StatusForbidden)
				return
			}
			h(w, r, id)
		}
	}
	mux.HandleFunc("GET /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		body, err := b.st.ReadState(r.Context(), id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			w.WriteHeader(http.StatusNoContent)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}
	}))
	mux.HandleFunc("POST /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStateBytes))
		if err != nil {
			http.Error(w, "state of "+id+": "+err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		if !json.Valid(body) {
			http.Error(w, "state of "+id+": the body is not JSON", http.StatusBadRequest)
			return
		}
		err = b.st.WriteState(r.Context(), id, r.URL.Query().Get("ID"), body)
		answer(w, err, http.StatusLocked)
	}))
	mux.HandleFunc("DELETE /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		if err := b.st.DeleteState(r.Context(), id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	mux.HandleFunc("LOCK /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		var li lockInfo
		if err != nil || json.Unmarshal(body, &li) != nil || li.ID == "" {
			http.Error(w, "lock of "+id+": want tofu's lock info JSON with an ID", http.StatusBadRequest)
			return
		}
		err = b.st.LockState(r.Context(), id, body)
		answer(w, err, http.StatusLocked)
	}))
	mux.HandleFunc("UNLOCK /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		var li lockInfo
		_ = json.Unmarshal(body, &li)
		err := b.st.UnlockState(r.Context(), id, li.ID)
		answer(w, err, http.StatusConflict)
	}))
	return mux
}

// answer writes a state call's outcome: nothing on success, the holder's
// lock info with locked (as the http backend expects) when another lock
// holds the state, 500 otherwise.
func answer(w http.ResponseWriter, err error, locked int) {
	var le *store.LockedError
	switch {
	case errors.As(err, &le):
		w.WriteHeader(locked)
		w.Write(le.Info)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// ProviderHandler serves what runs call, at the engine's Config.APIURL: the
// API of the sandbox's terraform-provider-spacelift (slapi) and, under
// /state/, each stack's OpenTofu state (the http backend).
func (b *Backend) ProviderHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/state/", b.stateHandler())
	mux.Handle("/", slapi.NewServer(b))
	return mux
}
