package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Daemon serves Koha instances until its context ends.
type Daemon struct {
	cfg     Config
	workers []*worker
	byName  map[string]*worker
}

// New validates cfg, applies its defaults and returns a Daemon.
func New(cfg Config) (*Daemon, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, byName: map[string]*worker{}}
	for _, in := range cfg.Instances {
		w := newWorker(in, &d.cfg)
		d.workers = append(d.workers, w)
		d.byName[in.Name] = w
	}
	return d, nil
}

// Run listens on Config.Listen and serves until ctx ends; see Serve.
func (d *Daemon) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w (set WEBHOOK_LISTEN to a free address)", d.cfg.Listen, err)
	}
	return d.Serve(ctx, ln)
}

// Serve runs every instance's poll loop and the HTTP server on ln until
// ctx ends, then stops: passes in progress stop claiming, let deliveries in
// flight finish within the grace period and release the notices they did
// not start. The HTTP server closes after them, and requests in progress
// then get ShutdownTimeout to finish.
// It returns nil after a stop requested through ctx, or the HTTP server's
// error.
func (d *Daemon) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	srv := &http.Server{
		Handler:           d.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	var wg sync.WaitGroup
	for _, w := range d.workers {
		wg.Go(func() { w.run(ctx) })
	}
	names := make([]string, len(d.workers))
	for i, w := range d.workers {
		names[i] = w.instance.Name
	}
	d.cfg.Logger.Info("daemon started", "listen", ln.Addr().String(), "instances", names)

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("HTTP server on %s failed: %w", ln.Addr(), err)
		d.cfg.Logger.Error("HTTP server failed; stopping", "error", err)
		cancel()
	}
	d.cfg.Logger.Info("stopping: waiting for the passes in progress", "grace_period", d.cfg.GracePeriod.String())

	// The inbound API keeps serving until the passes have finished, so a
	// receiver can still report on the notices delivered last.
	wg.Wait()
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.ShutdownTimeout)
	defer cancelShutdown()
	if serr := srv.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		d.cfg.Logger.Warn("HTTP requests still in progress were cut off", "error", serr)
	}
	d.cfg.Logger.Info("daemon stopped")
	return err
}
