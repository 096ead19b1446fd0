package cli

import (
	"errors"
	"net/http"

	"github.com/folio-p2p/folio/api"
)

// The API's verbs beyond sending (api/verbs.go is their client).
func (s *Server) routeVerbs() {
	s.mux.HandleFunc("GET /v1/tasks/{task}/members", s.members)
	s.mux.HandleFunc("POST /v1/tasks/{task}/read", s.markRead)
	s.mux.HandleFunc("POST /v1/tasks/{task}/leave", s.taskVerb("leave"))
	s.mux.HandleFunc("POST /v1/tasks/{task}/rename", s.taskVerb("rename"))
	s.mux.HandleFunc("POST /v1/tasks/{task}/close", s.taskVerb("close"))
	s.mux.HandleFunc("POST /v1/revoke", s.revoke)
	s.mux.HandleFunc("POST /v1/name", s.setName)
}

func (s *Server) members(w http.ResponseWriter, r *http.Request) {
	ms, err := opMembers(r.Context(), s.p, r.PathValue("task"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, 200, ms)
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request) {
	var in api.Read
	if !decodeOptional(w, r, &in) {
		return
	}
	t, err := opMarkRead(r.Context(), s.p, r.PathValue("task"), in.Upto)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, 200, t)
}

// taskVerb serves leave, rename ({title}) and close.
func (s *Server) taskVerb(verb string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in api.Rename
		if !decodeOptional(w, r, &in) {
			return
		}
		if verb == "rename" && in.Title == "" {
			writeErr(w, http.StatusBadRequest, errors.New("missing field: title"))
			return
		}
		t, err := opTaskVerb(r.Context(), s.p, r.PathValue("task"), verb, in.Title)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, 200, t)
	}
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	var in api.Revoke
	if !decode(w, r, &in) {
		return
	}
	if err := s.p.RevokeInvite(r.Context(), in.Code); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, 200, struct{}{})
}

func (s *Server) setName(w http.ResponseWriter, r *http.Request) {
	var in api.Name
	if !decode(w, r, &in) {
		return
	}
	id, err := opSetName(r.Context(), s.p, s.dir, in.Name)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, 200, id)
}

// decodeOptional is decode for a body that may be absent (no body and no
// Content-Type: the zero value).
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return true
	}
	return decode(w, r, v)
}
