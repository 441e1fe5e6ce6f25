package daemon

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves Go's profiler on server.pprof_listen (loopback only,
// config checks it), on a mux of its own: importing net/http/pprof registers
// its handlers on http.DefaultServeMux, which nothing here serves.
func (a *App) startPprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server.pprof_listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	a.pprofLn = ln
	go func() { _ = srv.Serve(ln) }()
	a.cleanup = append(a.cleanup, srv.Shutdown)
	a.log.Warn().Str("pprof", ln.Addr().String()).Msg("server.pprof_listen is on: Go's profiler is served on this address")
	return nil
}

// PprofAddr is the profiler's address once started, "" when off.
func (a *App) PprofAddr() string {
	if a.pprofLn == nil {
		return ""
	}
	return a.pprofLn.Addr().String()
}
