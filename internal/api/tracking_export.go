package api

import (
	"io"
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// flushingWriter is an HTTP answer with the Flush() error method operation.WriteDeliveriesCSV
// looks for.
type flushingWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (f flushingWriter) Flush() error { return f.rc.Flush() }

// exportDeliveries answers GET …/deliveries.csv: the proof-of-notice record, streamed and
// audited (operation.Service.Export).
func (s *Server) exportDeliveries(w http.ResponseWriter, r *http.Request) {
	started := false
	rows, err := s.Ops.Export(r.Context(), actor(r.Context()), r.PathValue("id"), func(c *breach.Campaign) (io.Writer, error) {
		started = true
		csvHeaders(w, "deliveries-"+c.ID+".csv")
		return flushingWriter{w, http.NewResponseController(w)}, nil
	})
	switch {
	case err != nil && !started:
		s.writeError(w, r, err)
	case err != nil:
		// The status line is long gone: break the connection, so that the client sees a
		// failed download instead of a proof of notice that silently ends early.
		s.Log.Error("export failed midway", "campaign", r.PathValue("id"), "rows", rows, "err", err)
		panic(http.ErrAbortHandler)
	}
}
