package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"

	"preview-environments/previewctl/pkg/sandbox/lambda"
)

// Status is what GET /api/status answers.
type Status struct {
	URL          string        `json:"url"`
	S3Endpoint   string        `json:"s3_endpoint"`
	Bucket       string        `json:"bucket"`
	DataDir      string        `json:"data_dir"`
	Environments []Environment `json:"environments"`
}

// mountAPI adds the JSON API:
//
//	GET    /api/status              Status
//	GET    /api/environments        [Environment]
//	GET    /api/environments/{id}   Environment | 404
//	PUT    /api/environments/{id}   Deployment -> Environment | 400 | 422
//	DELETE /api/environments/{id}   204 | 404
func (s *Sandbox) mountAPI() {
	s.mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, Status{URL: s.URL(), S3Endpoint: s.S3Endpoint(), Bucket: s.cfg.Bucket, DataDir: s.cfg.DataDir, Environments: nonNil(s.Environments())})
	})
	s.mux.HandleFunc("GET /api/environments", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, nonNil(s.Environments()))
	})
	s.mux.HandleFunc("GET /api/environments/{id}", func(w http.ResponseWriter, r *http.Request) {
		e, ok := s.Environment(r.PathValue("id"))
		if !ok {
			writeError(w, http.StatusNotFound, "no environment "+r.PathValue("id"))
			return
		}
		writeJSON(w, http.StatusOK, e)
	})
	s.mux.HandleFunc("PUT /api/environments/{id}", func(w http.ResponseWriter, r *http.Request) {
		var d Deployment
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			writeError(w, http.StatusBadRequest, "deployment body: "+err.Error())
			return
		}
		if d.ID != "" && d.ID != r.PathValue("id") {
			writeError(w, http.StatusBadRequest, "deployment body: id "+d.ID+" differs from the URL's "+r.PathValue("id"))
			return
		}
		d.ID = r.PathValue("id")
		e, err := s.Deploy(r.Context(), d)
		var ie *InputError
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, e)
		case errors.As(err, &ie):
			writeError(w, http.StatusBadRequest, err.Error())
		case errors.Is(err, lambda.ErrArtifact):
			writeError(w, http.StatusUnprocessableEntity, err.Error())
		default:
			s.log.Error("deploy", "id", d.ID, "err", err)
			writeError(w, http.StatusInternalServerError, err.Error())
		}
	})
	s.mux.HandleFunc("DELETE /api/environments/{id}", func(w http.ResponseWriter, r *http.Request) {
		err := s.Remove(r.Context(), r.PathValue("id"))
		switch {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, ErrNoEnvironment):
			writeError(w, http.StatusNotFound, err.Error())
		case errors.Is(err, ErrManaged):
			writeError(w, http.StatusConflict, err.Error())
		default:
			writeError(w, http.StatusInternalServerError, err.Error())
		}
	})
}

func nonNil(e []Environment) []Environment {
	if e == nil {
		return []Environment{}
	}
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
