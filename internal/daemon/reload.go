package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
)

// Reload reads the configuration again from a.Source, and the service tags
// file it names. If both are valid, the new mapping, tokens, allow list and
// LDAP pool take over atomically: requests already running finish on the old
// ones, which are closed afterwards. If not, the bridge keeps serving with the
// old configuration and every problem is logged. This is how a token is
// rotated without a restart (list the old and the new token during the
// rotation window), and how the weekly service tags file takes effect.
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
		if cerr != nil {
			// The directory did not answer: the configuration's own
			// warnings (the service tags file's age) still stand.
			warnings = p.Config.Warnings()
		}
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
	select {
	case a.rewatch <- struct{}{}:
	default: // the watcher has one to handle already
	}
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

// Watch reloads when the configuration file or the service tags file it
// names (server.allowed_service_tags.file) changes, until ctx ends. It
// watches their directories, because editors, config management and a
// refresh job replace a file rather than write it in place, and waits for the
// writes to settle. After each reload it watches the files the new
// configuration names. It also logs, once a day, the service tags file's age
// warning: a broken refresh job changes no file, so nothing else would.
func (a *App) Watch(ctx context.Context) error {
	files := a.watchedFiles()
	if len(files) == 0 {
		return nil // no file to watch
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	fw := &fileWatch{w: w, dirs: map[string]bool{}}
	if err := fw.set(files); err != nil {
		_ = w.Close()
		return err
	}
	go a.reloadOnChange(ctx, fw)
	return nil
}

// watchedFiles are the files whose change reloads: the configuration file
// (unless it came as Data) and the serving configuration's service tags file.
func (a *App) watchedFiles() []string {
	if a.Source == nil {
		return nil // nothing to reload from
	}
	var files []string
	if a.Source.File != "" && a.Source.Data == nil {
		files = append(files, a.Source.File)
	}
	if f := a.cur.Load().cfg.Server.AllowedServiceTags.File; f != "" {
		files = append(files, f)
	}
	return files
}

// fileWatch is a watcher on the directories of some files.
type fileWatch struct {
	w *fsnotify.Watcher
	// files are absolute, the form fileChanged compares events with.
	files []string
	dirs  map[string]bool
}

// set watches the directories of files, and no others. A directory that
// cannot be watched is an error; the others are watched all the same.
func (fw *fileWatch) set(files []string) error {
	var errs []error
	abs := make([]string, 0, len(files))
	want := map[string]bool{}
	for _, f := range files {
		p, err := filepath.Abs(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		abs = append(abs, p)
		want[filepath.Dir(p)] = true
	}
	for d := range want {
		if fw.dirs[d] {
			continue
		}
		if err := fw.w.Add(d); err != nil {
			errs = append(errs, err)
			continue
		}
		fw.dirs[d] = true
	}
	for d := range fw.dirs {
		if !want[d] {
			_ = fw.w.Remove(d)
			delete(fw.dirs, d)
		}
	}
	fw.files = abs
	return errors.Join(errs...)
}

// changed tells whether ev writes, creates or renames one of the files.
func (fw *fileWatch) changed(ev fsnotify.Event) bool {
	return slices.ContainsFunc(fw.files, func(f string) bool { return fileChanged(ev, f) })
}

// reloadSettle is how long the file must stay quiet before a reload: one
// save is often several events (write, rename, create), and reading at the
// first could see a half-written file.
const reloadSettle = 200 * time.Millisecond

// staleCheckEvery is how often a serving bridge logs the service tags
// file's age warning (staleWarning), while there is one.
const staleCheckEvery = 24 * time.Hour

// reloadOnChange reloads once a watched file has changed and settled, until
// ctx ends or the watcher closes; it closes the watcher when it returns.
func (a *App) reloadOnChange(ctx context.Context, fw *fileWatch) {
	defer fw.w.Close()
	var settle <-chan time.Time
	stale := time.NewTicker(staleCheckEvery)
	defer stale.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fw.w.Events:
			if !ok {
				return
			}
			if fw.changed(ev) {
				settle = time.After(reloadSettle)
			}
		case err, ok := <-fw.w.Errors:
			if !ok {
				return
			}
			a.log.Warn().Err(err).Msg("config file watch")
		case <-settle:
			settle = nil
			_ = a.Reload()
		case <-a.rewatch:
			if err := fw.set(a.watchedFiles()); err != nil {
				a.log.Warn().Err(err).Msg("config file watch: a changed file will not reload; reload with SIGHUP")
			}
		case now := <-stale.C:
			a.warnStale(now)
		}
	}
}

// warnStale logs the serving service tags file's age warning, if any.
func (a *App) warnStale(now time.Time) {
	if tags := a.cur.Load().tags; tags != nil {
		if w := tags.staleWarning(now); w != "" {
			a.log.Warn().Str("warning", w).Msg("service tags")
		}
	}
}

// fileChanged tells whether ev writes, creates or renames file (absolute).
func fileChanged(ev fsnotify.Event, file string) bool {
	p, _ := filepath.Abs(ev.Name)
	return p == file && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0
}
