package bridge_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/testenv"
)

// benchParallelism matches docs/directory-lab.md's measurements (C=4 on 2 cores is slapd's
// best; more connections only add latency).
const benchParallelism = 4

// BenchmarkCreateUser compares users created per second through the bridge
// (real HTTP on loopback, Entra's create body) with the directory's own cost
// for the same LDAP add, in the same run against the same slapd. users/s =
// 1e9 / ns/op; the bridge sub-benchmark also reports LDAP round trips per user.
func BenchmarkCreateUser(b *testing.B) {
	var seq atomic.Int64
	b.Run("bridge", func(b *testing.B) {
		h := newHarness(b, nil)
		h.Cfg.Server.Listen = "127.0.0.1:0"
		if err := h.App.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = h.App.Stop(context.Background()) }()
		base := "http://" + h.App.Addr() + "/scim/v2/Users"
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchParallelism * 2}}
		b.SetParallelism(benchParallelism / max(1, runtimeProcs()))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				req, _ := http.NewRequest("POST", base, strings.NewReader(benchUserBody(n)))
				req.Header.Set("Authorization", "Bearer "+h.Token)
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body) // drain, or the connection is not reused
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
	})
	b.Run("raw-ldap", func(b *testing.B) {
		srv := testenv.OpenLDAP(b)
		ns := testenv.NewNamespace(b, srv)
		b.SetParallelism(benchParallelism / max(1, runtimeProcs()))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			c, err := srv.Dial()
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			for pb.Next() {
				if err := c.Add(benchRawAdd(ns.People, seq.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
	})
}

func benchUserBody(n int64) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"externalId":"ext-%[1]d","userName":"bench%[1]d@example.org","active":true,"displayName":"Bench %[1]d",
"emails":[{"primary":true,"type":"work","value":"bench%[1]d@example.org"}],"meta":{"resourceType":"User"},
"name":{"formatted":"Bench User%[1]d","familyName":"User%[1]d","givenName":"Bench"},"roles":[]}`, n)
}

// benchRawAdd is the add the bridge issues for benchUserBody.
func benchRawAdd(base string, n int64) *ldap.AddRequest {
	uid := fmt.Sprintf("bench%d@example.org", n)
	req := ldap.NewAddRequest("uid="+ldap.EscapeDN(uid)+","+base, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
	req.Attribute("uid", []string{uid})
	req.Attribute("cn", []string{fmt.Sprintf("Bench User%d", n)})
	req.Attribute("sn", []string{fmt.Sprintf("User%d", n)})
	req.Attribute("givenName", []string{"Bench"})
	req.Attribute("displayName", []string{fmt.Sprintf("Bench %d", n)})
	req.Attribute("mail", []string{uid})
	req.Attribute("employeeNumber", []string{fmt.Sprintf("ext-%d", n)})
	return req
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
