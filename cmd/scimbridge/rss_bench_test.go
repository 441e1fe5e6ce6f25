package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/testenv"
)

// BenchmarkSlowReadersRSS runs the built binary on examples/openldap.yaml
// against a slapd holding 1,000 users and sends it 100 concurrent
// GET /Users?count=1000 from clients that never read their answer (each a
// ~0.7 MB body), the case that took a bridge to 1.2 GB. It reports the
// process's peak resident memory (VmHWM, from /proc) in MB, and the same
// after 100 clients that read at once, for comparison.
func BenchmarkSlowReadersRSS(b *testing.B) {
	srv := testenv.OpenLDAP(b)
	ns := testenv.NewNamespace(b, srv)
	c := testenv.Conn(b, srv)
	for i := 0; i < 1000; i++ {
		req := ldap.NewAddRequest(fmt.Sprintf("uid=rss%04d,%s", i, ns.People), nil)
		req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
		req.Attribute("uid", []string{fmt.Sprintf("rss%04d", i)})
		req.Attribute("cn", []string{"Resident Set"})
		req.Attribute("sn", []string{"Set"})
		req.Attribute("mail", []string{fmt.Sprintf("rss%04d@example.org", i)})
		req.Attribute("displayName", []string{"Resident Set Size " + strconv.Itoa(i)})
		if err := c.Add(req); err != nil {
			b.Fatal(err)
		}
	}
	bin := buildBinary(b)
	tok, hash := newToken(b)
	scim, ops := freeAddr(b), freeAddr(b)
	env := []string{
		"LDAP_BIND_PASSWORD=" + srv.BindPassword, "SCIMBRIDGE_TOKEN_SHA256=" + hash,
		"SCIMBRIDGE_LDAP__URL=" + srv.URL, "SCIMBRIDGE_LDAP__BIND_DN=" + srv.BindDN,
		"SCIMBRIDGE_USERS__BASE_DN=" + ns.People, "SCIMBRIDGE_GROUPS__BASE_DN=" + ns.Groups,
		"SCIMBRIDGE_SERVER__LISTEN=" + scim, "SCIMBRIDGE_SERVER__METRICS_LISTEN=" + ops,
		"SCIMBRIDGE_LOG__LEVEL=warn",
	}
	file, _ := os.Getwd()
	p := startBinary(b, bin, env, "serve", "--config", file+"/../../examples/openldap.yaml")
	waitReady(b, p, "http://"+ops+"/readyz")
	request := "GET /scim/v2/Users?count=1000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\nConnection: close\r\n\r\n"
	for i := 0; i < b.N; i++ {
		b.ReportMetric(peakAfter(b, p.cmd.Process.Pid, scim, request, 100, false), "MB-peak-slow-readers")
		b.ReportMetric(peakAfter(b, p.cmd.Process.Pid, scim, request, 100, true), "MB-peak-readers")
	}
}

// peakAfter opens n connections that each send request, reading the answers
// or not, waits until the server has had time to build them all, and
// returns the process's peak RSS so far in MB.
func peakAfter(b *testing.B, pid int, addr, request string, n int, read bool) float64 {
	b.Helper()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	done := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		if tc, ok := c.(*net.TCPConn); ok && !read {
			_ = tc.SetReadBuffer(4096) // a client that does not read: the server's writes block soon
		}
		conns = append(conns, c)
		if _, err := c.Write([]byte(request)); err != nil {
			b.Fatal(err)
		}
		if read {
			go func(c net.Conn) {
				r := bufio.NewReader(c)
				_, _ = r.Discard(1 << 30)
				done <- struct{}{}
			}(c)
		}
	}
	if read {
		timeout := time.After(2 * time.Minute)
		for i := 0; i < n; i++ {
			select {
			case <-done:
			case <-timeout:
				b.Fatal("readers did not finish")
			}
		}
	} else {
		time.Sleep(15 * time.Second) // every request has been searched, encoded and is stuck writing
	}
	return vmHWM(b, pid)
}

// vmHWM reads the peak resident set size of pid, in MB.
func vmHWM(b *testing.B, pid int) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM")
	return 0
}
