package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// InstancePrefix starts the paths of one instance's inbound API:
// /instances/<name>/api/v1/contrib/webhook_notifications/… serves what the
// Koha plugin served at /api/v1/contrib/webhook_notifications/… for that
// instance.
const InstancePrefix = "/instances/"

// Handler returns the daemon's HTTP routes:
//
//	GET /healthz    200 while the process runs
//	GET /readyz     200 when every instance is ready, else 503; JSON either way
//	GET /metrics    Prometheus metrics
//	/instances/<name>/api/…   the inbound API of instance <name>
//	/api/…          the inbound API, when the daemon serves one instance
//
// With one instance, a reverse proxy forwards the plugin's paths
// unchanged. With several, the proxy of each Koha site prefixes them with
// /instances/<name>.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", d.serveReady)
	mux.Handle("GET /metrics", d.cfg.Metrics.Handler())
	mux.HandleFunc(InstancePrefix+"{instance}/", d.serveInstanceAPI)
	if len(d.workers) == 1 {
		mux.Handle("/api/", d.workers[0].apiHandler())
	}
	return mux
}

func (d *Daemon) serveInstanceAPI(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("instance")
	wk, ok := d.byName[name]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown Koha instance " + name})
		return
	}
	http.StripPrefix(InstancePrefix+name, wk.apiHandler()).ServeHTTP(w, r)
}

// apiHandler serves the instance's inbound API while it runs and 503
// otherwise.
func (w *worker) apiHandler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := w.state()
		if b == nil {
			rw.Header().Set("Retry-After", "5")
			writeJSON(rw, http.StatusServiceUnavailable, map[string]string{
				"error": "Koha instance " + w.instance.Name + " is not ready; see /readyz"})
			return
		}
		b.api.ServeHTTP(rw, r)
	})
}

// instanceReadiness is one instance's entry in the /readyz body.
type instanceReadiness struct {
	Name  string `json:"name"`
	Ready bool   `json:"ready"`
	Error string `json:"error,omitempty"`
}

// serveReady checks every instance at once: its settings were valid when
// it started and its database responds to a ping within ReadyTimeout.
func (d *Daemon) serveReady(w http.ResponseWriter, r *http.Request) {
	results := make([]instanceReadiness, len(d.workers))
	var wg sync.WaitGroup
	for i, wk := range d.workers {
		wg.Go(func() { results[i] = wk.readiness(r.Context(), d.cfg.ReadyTimeout) })
	}
	wg.Wait()

	status, code := "ready", http.StatusOK
	for _, res := range results {
		if !res.Ready {
			status, code = "not ready", http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, map[string]any{"status": status, "instances": results})
}

func (w *worker) readiness(ctx context.Context, timeout time.Duration) instanceReadiness {
	res := instanceReadiness{Name: w.instance.Name}
	b, failure := w.state()
	if b == nil {
		res.Error = failure.Error()
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := b.db.PingContext(ctx); err != nil {
		res.Error = "database ping failed: " + err.Error()
		return res
	}
	res.Ready = true
	return res
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
