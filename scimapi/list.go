package scimapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/semaphore"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// Lists are the one request whose memory grows with its answer: a page of
// count resources is searched, rendered and encoded, and a client that reads
// slowly keeps it alive until the write timeout. listSlots bounds the
// resources all lists hold at once (two pages of MaxCount by default), so
// memory stays flat however many lists arrive: a list first reserves count
// slots, keeps one per resource found, and gives each back as that resource
// has been written to the client. A list that cannot reserve within its
// request budget answers 503 with Retry-After.
type listSlots struct{ sem *semaphore.Weighted }

func newListSlots(capacity int) *listSlots {
	return &listSlots{sem: semaphore.NewWeighted(int64(max(capacity, 1)))}
}

// reserve takes n slots (at least 1), waiting at most until ctx ends.
func (l *listSlots) reserve(ctx context.Context, n int) (int, error) {
	n = max(n, 1)
	if err := l.sem.Acquire(ctx, int64(n)); err != nil {
		return 0, scimerr.Wrap(scimerr.Unavailable, err, "too many large lists are being answered; retry later")
	}
	return n, nil
}

func (l *listSlots) release(n int) {
	if n > 0 {
		l.sem.Release(int64(n))
	}
}

// listWriters reuses the 32 KiB buffers lists are written through: one
// allocated per list was 3% of a GET's CPU (Entra's filter GETs are lists).
// 32 KiB collects a page's resources into few large writes to the client.
var listWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// writeList streams a ListResponse (RFC 7644 §3.4.2): the envelope, then one
// resource at a time, each dropped and its slot given back once written, so
// a slow reader holds only what it has not been sent yet. held is the number
// of slots the caller reserved for it; writeList gives them all back.
func (s *Server) writeList(c echo.Context, total, startIndex int, resources []any, held int) error {
	defer func() { s.lists.release(held) }()
	// Beyond one per resource, nothing is held while writing.
	if extra := held - max(len(resources), 1); extra > 0 {
		s.lists.release(extra)
		held -= extra
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, ContentType)
	w.WriteHeader(http.StatusOK)
	bw := listWriters.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() { bw.Reset(nil); listWriters.Put(bw) }()
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // "R&D" stays readable; this is not HTML
	// Resources is always present, also when empty: Entra's Test connection
	// expects {"totalResults":0,"Resources":[]} (docs/entra-wire-reference.md §2).
	head := `{"schemas":["` + SchemaListResponse + `"],"totalResults":` + strconv.Itoa(total) +
		`,"startIndex":` + strconv.Itoa(startIndex) + `,"itemsPerPage":` + strconv.Itoa(len(resources)) + `,"Resources":[`
	if _, err := bw.WriteString(head); err != nil {
		return nil // the client went away; the status is already sent
	}
	for i := range resources {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		if err := enc.Encode(resources[i]); err != nil {
			return nil
		}
		resources[i] = nil
		if held > 1 {
			s.lists.release(1)
			held--
		}
	}
	_, _ = bw.WriteString("]}\n")
	_ = bw.Flush()
	return nil
}
