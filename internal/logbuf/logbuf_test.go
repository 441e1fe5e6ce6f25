package logbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuffer) snapshot() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.writes
}

func TestBatchesLinesAndFlushesOnTimer(t *testing.T) {
	var out syncBuffer
	w := New(&out)
	defer w.Close()
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if got, _ := out.snapshot(); got != "" {
		t.Fatalf("written before the flush interval: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, writes := out.snapshot()
		if strings.Count(got, "\n") == 100 {
			if writes != 1 {
				t.Errorf("100 lines took %d writes, want 1", writes)
			}
			if !strings.HasPrefix(got, "line 0\n") || !strings.HasSuffix(got, "line 99\n") {
				t.Errorf("order: %q...", got[:20])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not flushed after 5 s: %d lines", strings.Count(got, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseFlushesAndWritesThroughAfter(t *testing.T) {
	var out syncBuffer
	w := New(&out)
	fmt.Fprint(w, "before\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := out.snapshot(); got != "before\n" {
		t.Fatalf("after Close: %q", got)
	}
	fmt.Fprint(w, "late\n")
	if got, _ := out.snapshot(); got != "before\nlate\n" {
		t.Fatalf("a line after Close is not written through: %q", got)
	}
}

// Lines written concurrently come out whole: never interleaved.
func TestConcurrentLinesStayWhole(t *testing.T) {
	var out syncBuffer
	w := New(&out)
	var wg sync.WaitGroup
	line := strings.Repeat("x", 1000) + "\n"
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				_, _ = w.Write([]byte(line))
			}
		}()
	}
	wg.Wait()
	_ = w.Close()
	got, _ := out.snapshot()
	for i, l := range strings.SplitAfter(got, "\n") {
		if l != "" && l != line {
			t.Fatalf("line %d is not whole: %.40q", i, l)
		}
	}
	if n := strings.Count(got, "\n"); n != 1600 {
		t.Fatalf("%d lines, want 1600", n)
	}
}

func TestForFileLeavesBuffersAlone(t *testing.T) {
	var b bytes.Buffer
	w, done := ForFile(&b)
	if w != &b {
		t.Fatal("a bytes.Buffer was wrapped")
	}
	if err := done(); err != nil {
		t.Fatal(err)
	}
}
