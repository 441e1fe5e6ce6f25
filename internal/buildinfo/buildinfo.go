// Package buildinfo says which build of scimbridge is running: `scimbridge
// version`, the scimbridge_build_info metric and the packages all read it
// here. Release builds set Version and Commit with the linker
// (-X github.com/scimbridge/scimbridge/internal/buildinfo.Version=...); a
// plain `go build` falls back to what the Go toolchain recorded.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Set by the linker in release builds (.goreleaser.yaml).
var (
	Version = ""
	Commit  = ""
)

// Info is one build's identity.
type Info struct {
	Version   string // v1.2.3, or "devel" for a source build
	Commit    string // the VCS revision, "unknown" when not recorded
	GoVersion string
}

var (
	once sync.Once
	info Info
)

// Get returns the running build's Info.
func Get() Info {
	once.Do(func() {
		info = Info{Version: Version, Commit: Commit, GoVersion: runtime.Version()}
		bi, ok := debug.ReadBuildInfo()
		if info.Version == "" {
			info.Version = "devel"
			if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				info.Version = bi.Main.Version
			}
		}
		if info.Commit == "" && ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					info.Commit = s.Value
				}
			}
		}
		if info.Commit == "" {
			info.Commit = "unknown"
		}
	})
	return info
}
