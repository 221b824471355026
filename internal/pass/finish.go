package pass

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/koha-webhooks/koha-webhooks/internal/archive"
)

// archiveItems appends the batch's payloads to the pass's archive file,
// creating it (and the pass log beside it) on first use.
func (p *run) archiveItems(items []*item) {
	if p.cfg.ArchiveDir == "" {
		return
	}
	for _, it := range items {
		if it.body == nil {
			continue
		}
		if p.archive == nil && !p.openArchive() {
			return
		}
		p.archive.Add(it.body)
	}
}

func (p *run) openArchive() bool {
	name := archive.FileName(p.summary.Started, p.summary.LibraryName)
	w, err := archive.Create(p.cfg.ArchiveDir, name, p.cfg.Version, string(p.cfg.Payload.Format))
	if err != nil {
		// Failure policy: fail open, because the archive is a record of
		// what was sent, not a condition for sending.
		p.log.Error("cannot write archive; continuing without it", "error", err)
		p.cfg.ArchiveDir = ""
		return false
	}
	p.archive = w
	p.summary.ArchivePath = w.Path()
	f, err := os.OpenFile(archive.LogPath(w.Path()), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		p.log.Error("cannot write pass log beside the archive", "error", err)
		return true
	}
	p.logFile = f
	p.passLog.set(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return true
}

// finish closes the archive, logs the summary and writes the closing
// action_logs rows.
func (p *run) finish(ctx context.Context, err error) {
	p.summary.Finished = p.cfg.Now()
	if p.archive != nil {
		if cerr := p.archive.Close(); cerr != nil {
			p.log.Error("archive incomplete", "error", cerr)
		}
	}
	attrs := p.summary.attrs()
	if p.cfg.TestMode {
		attrs = append(attrs, "test_mode", true)
	}
	if p.summary.ArchivePath != "" {
		attrs = append(attrs, "archive", p.summary.ArchivePath)
	}
	if err != nil {
		p.log.Error("pass stopped by an error", append(attrs, "error", err)...)
	} else if p.summary.Claimed > 0 || p.cfg.LogEveryPass {
		p.log.Info("pass finished", attrs...)
	} else {
		p.log.Debug("pass finished", attrs...)
	}
	if p.actions.started {
		p.actions.write(ctx, "DONE", "")
		p.actions.write(ctx, "MESSAGES_PROCESSED", p.summary.actionInfo())
	}
	if p.logFile != nil {
		p.logFile.Close()
	}
}

// lateHandler forwards records to a handler set once the pass log file
// exists; until then it drops them. Both pipeline stages log through it.
type lateHandler struct {
	target *atomic.Pointer[slog.Handler]
	attrs  func(slog.Handler) slog.Handler
}

func newLateHandler() lateHandler {
	return lateHandler{target: &atomic.Pointer[slog.Handler]{}, attrs: func(h slog.Handler) slog.Handler { return h }}
}

func (l lateHandler) set(h slog.Handler) { l.target.Store(&h) }

func (l lateHandler) Enabled(context.Context, slog.Level) bool { return l.target.Load() != nil }

func (l lateHandler) Handle(ctx context.Context, r slog.Record) error {
	if h := l.target.Load(); h != nil {
		return l.attrs(*h).Handle(ctx, r)
	}
	return nil
}

func (l lateHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	prev := l.attrs
	return lateHandler{target: l.target, attrs: func(h slog.Handler) slog.Handler { return prev(h).WithAttrs(attrs) }}
}

func (l lateHandler) WithGroup(name string) slog.Handler {
	prev := l.attrs
	return lateHandler{target: l.target, attrs: func(h slog.Handler) slog.Handler { return prev(h).WithGroup(name) }}
}

// teeHandler sends each record to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	if t.a.Enabled(ctx, r.Level) {
		t.a.Handle(ctx, r.Clone())
	}
	if t.b.Enabled(ctx, r.Level) {
		t.b.Handle(ctx, r)
	}
	return nil
}

func (t teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return teeHandler{t.a.WithAttrs(attrs), t.b.WithAttrs(attrs)}
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{t.a.WithGroup(name), t.b.WithGroup(name)}
}
