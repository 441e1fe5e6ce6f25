package bridge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// More member values than the cap in one request: 400 tooMany before any
// LDAP work, nothing written.
func TestMemberValuesCapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	gid := h.group("capped")
	before := h.groupEntry(gid).GetAttributeValue("entryCSN")
	values := make([]string, bridge.MaxMemberValues+1)
	for i := range values {
		values[i] = fmt.Sprintf(`{"value":"00000000-0000-0000-0000-%012d"}`, i)
	}
	list := "[" + strings.Join(values, ",") + "]"
	for _, op := range []string{"add", "remove", "replace"} {
		r := h.do("PATCH", "/Groups/"+gid, patchBody(`{"op":"`+op+`","path":"members","value":`+list+`}`))
		scimErr(t, r, http.StatusBadRequest, "tooMany")
	}
	scimErr(t, h.do("PUT", "/Groups/"+gid, `{"displayName":"capped","members":`+list+`}`), http.StatusBadRequest, "tooMany")
	if h.groupEntry(gid).GetAttributeValue("entryCSN") != before {
		t.Error("the group was written")
	}
}

// Members resolved in chunks: a PATCH whose ids span several chunks adds
// exactly the users named, and a re-add of them all changes nothing.
func TestMemberChunks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	gid := h.group("chunked")
	var ids, dns []string
	for i := 0; i < 120; i++ {
		id := h.user(fmt.Sprintf("chunk%03d", i))
		ids = append(ids, `{"value":"`+id+`"}`)
		dns = append(dns, h.entry(id).DN)
	}
	add := patchBody(`{"op":"add","path":"members","value":[` + strings.Join(ids, ",") + `]}`)
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, add)
	wantMembers(t, h.groupEntry(gid), "member", dns...)
	csn := h.groupEntry(gid).GetAttributeValue("entryCSN")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, add)
	if h.groupEntry(gid).GetAttributeValue("entryCSN") != csn {
		t.Error("re-adding present members wrote to the group")
	}
	// Half present, half not: only the missing ones are added.
	remove := patchBody(`{"op":"remove","path":"members","value":[` + strings.Join(ids[:60], ",") + `]}`)
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, remove)
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, add)
	wantMembers(t, h.groupEntry(gid), "member", dns...)
}
