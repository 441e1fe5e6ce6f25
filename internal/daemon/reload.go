package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
)

// Reload reads the configuration again from a.Source. If it is valid, the new
// mapping, tokens and LDAP pool take over atomically: requests already running
// finish on the old ones, which are closed afterwards. If it is not, the bridge
// keeps serving with the old configuration and every problem is logged. This is
// how a token is rotated without a restart (list the old and the new token
// during the rotation window).
func (a *App) Reload() error {
	if a.Source == nil {
		return errors.New("reload: no configuration source")
	}
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	if a.stopped {
		return errStopped
	}
	// The new pool logs through the App's logger: log settings take effect
	// at the next restart, like the listeners.
	p, err := Prepare(*a.Source, PrepareOptions{Log: func(config.LogConfig) zerolog.Logger { return a.log }})
	if err == nil {
		// With the same directory servers, the new pool goes on on the
		// server the old one uses (docs/high-availability.md).
		p.Pool.TakeOver(a.cur.Load().pool)
		// The same checks against the directory as serve at start; a
		// directory that cannot be reached right now does not block a reload.
		ctx, cancel := context.WithTimeout(a.life, time.Minute)
		problems, warnings, cerr := p.CheckOnline(ctx)
		cancel()
		for _, w := range warnings {
			a.log.Warn().Str("warning", w).Msg("config reload")
		}
		if cerr == nil && len(problems) > 0 {
			err = problems.Err()
		}
		if err == nil && a.life.Err() != nil {
			err = errStopped // Stop came during the check
		}
		if err != nil {
			_ = p.Pool.Close()
		}
	}
	if err != nil {
		a.Metrics.Reload(false)
		// Each problem on its own line, with its line in the file.
		for _, e := range joined(err) {
			a.log.Error().Str("problem", e.Error()).Msg("config reload rejected; still serving the previous configuration")
		}
		return err
	}
	cfg := p.Config
	c := a.newCore(p)
	a.warnStatic(cfg)
	old := a.cur.Swap(c)
	a.Metrics.Reload(true)
	a.log.Info().Msg("configuration reloaded")
	a.retiring.Add(1)
	go a.retire(old)
	return nil
}

// errStopped refuses a reload once Stop has begun.
var errStopped = errors.New("reload: the bridge is stopping")

// retire closes an old core's pool once no request holds it any more, or
// when the requests' time is up.
func (a *App) retire(c *core) {
	defer a.retiring.Done()
	c.retired.Store(true)
	if c.refs.Load() == 0 {
		c.idleOnce.Do(func() { close(c.idle) })
	}
	wait := time.NewTimer(a.cfg.Server.ShutdownTimeout + a.cfg.LDAP.Timeout)
	defer wait.Stop()
	select {
	case <-c.idle:
	case <-wait.C:
	}
	_ = c.pool.Close()
}

// warnStatic logs settings that only a restart changes.
func (a *App) warnStatic(cfg *config.Config) {
	old, cur := a.cfg.Server, cfg.Server
	if old.Listen != cur.Listen || old.MetricsListen != cur.MetricsListen || old.PprofListen != cur.PprofListen || !reflect.DeepEqual(old.TLS, cur.TLS) ||
		old.AuditLog != cur.AuditLog {
		a.log.Warn().Msg("server.listen, metrics_listen, pprof_listen, tls and audit_log changes take effect at the next restart")
	}
}

// Watch reloads when the configuration file changes, until ctx ends. It
// watches the directory, because editors and config management replace the
// file rather than write it in place, and waits for the writes to settle.
func (a *App) Watch(ctx context.Context) error {
	if a.Source == nil || a.Source.File == "" || a.Source.Data != nil {
		return nil // no file to watch
	}
	w, file, err := watchFile(a.Source.File)
	if err != nil {
		return err
	}
	go a.reloadOnChange(ctx, w, file)
	return nil
}

// watchFile watches the directory that holds path. It returns path made
// absolute, the form fileChanged compares events with.
func watchFile(path string) (*fsnotify.Watcher, string, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, "", err
	}
	file, err := filepath.Abs(path)
	if err == nil {
		err = w.Add(filepath.Dir(file))
	}
	if err != nil {
		_ = w.Close()
		return nil, "", err
	}
	return w, file, nil
}

// reloadSettle is how long the file must stay quiet before a reload: one
// save is often several events (write, rename, create), and reading at the
// first could see a half-written file.
const reloadSettle = 200 * time.Millisecond

// reloadOnChange reloads once file has changed and settled, until ctx ends or
// the watcher w closes; it closes w when it returns.
func (a *App) reloadOnChange(ctx context.Context, w *fsnotify.Watcher, file string) {
	defer w.Close()
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if fileChanged(ev, file) {
				settle = time.After(reloadSettle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			a.log.Warn().Err(err).Msg("config file watch")
		case <-settle:
			settle = nil
			_ = a.Reload()
		}
	}
}

// fileChanged tells whether ev writes, creates or renames file (absolute).
func fileChanged(ev fsnotify.Event, file string) bool {
	p, _ := filepath.Abs(ev.Name)
	return p == file && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0
}
