package buildinfo

import (
	"runtime"
	"testing"
)

func TestGet(t *testing.T) {
	i := Get()
	if i.Version == "" || i.Commit == "" || i.GoVersion != runtime.Version() {
		t.Fatalf("Get() = %+v", i)
	}
}
