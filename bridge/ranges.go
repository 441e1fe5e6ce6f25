package bridge

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// adRangeSize is how many member values one ranged read asks for. Windows AD
// returns at most MaxValRange (1,500 by default) values of a multi-valued
// attribute per read and marks the rest with "member;range=0-1499"; asking for
// explicit ranges below that size works on every AD (and on Samba, which would
// otherwise return all values at once).
const adRangeSize = 1000

// memberValues returns every member value of group entry e. On AD they are
// read in ranges (ranged retrieval, MS-ADTS 3.1.1.3.1.3.3); elsewhere the entry
// already holds them all.
func (s *Groups) memberValues(ctx context.Context, e *ldap.Entry) ([]string, error) {
	if !s.ad {
		return e.GetEqualFoldAttributeValues(s.g.MemberAttr), nil
	}
	var all []string
	for start := 0; ; start += adRangeSize {
		want := fmt.Sprintf("%s;range=%d-%d", s.g.MemberAttr, start, start+adRangeSize-1)
		res, err := s.dir.Search(ctx, ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0,
			false, "(objectClass=*)", []string{want}, nil))
		if err != nil {
			return nil, failed("read members", err)
		}
		if len(res.Entries) == 0 {
			return all, nil
		}
		last := true
		for _, a := range res.Entries[0].Attributes {
			name := strings.ToLower(a.Name)
			if !strings.HasPrefix(name, strings.ToLower(s.g.MemberAttr)+";range=") {
				continue
			}
			all = append(all, a.Values...)
			// "member;range=1000-1999" means more may follow; "-*" is the end.
			last = strings.HasSuffix(name, "-*")
			if !last {
				if end, err := strconv.Atoi(name[strings.LastIndexByte(name, '-')+1:]); err != nil || end < start {
					last = true
				}
			}
		}
		if last {
			return all, nil
		}
	}
}
