package loadbench

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/labstack/echo/v4"

	"github.com/scimbridge/scimbridge/internal/slapd"
)

// The floor is the fixed stack alone: net/http through echo, go-ldap (with
// the repository's asn1-ber) and encoding/json, serving Entra's four
// requests with nothing of scimbridge in between: no attribute map, no
// filter parser, no middleware, no log, no metrics, no audit trail. What
// one of its requests costs in CPU is what any bridge written on these
// libraries pays at least, so the bridge's CPU divided by the floor's is
// what scimbridge's own logic adds, and the floor's CPU divided by slapd's
// says whether a goal stated against slapd's CPU is reachable on this
// stack at all (docs/performance.md, issue 13).
//
// It runs as a process of its own, like the bridge, so that its CPU in
// /proc is its own: Run starts the running program again with
// FloorServerCommand as its first argument.

// FloorServerCommand is the first argument on which a program that calls
// Run with Options.Floor must call FloorMain: Run re-executes that program
// (os.Executable) to start the floor. scimbench's main and this package's
// TestMain do.
const FloorServerCommand = "floor-server"

// The floor takes the secrets from its environment, not its command line
// (which ps shows).
const (
	floorPasswordEnv = "SCIMBENCH_FLOOR_BIND_PASSWORD"
	floorTokenEnv    = "SCIMBENCH_FLOOR_TOKEN"
)

// floorGCPercent is the bridge's own GC setting (cmd/scimbridge sets 200
// unless GOGC is set): the floor compares code, not collector settings.
const floorGCPercent = 200

// FloorMain serves the floor until the process is killed (Run stops it with
// SIGTERM, whose default action suffices: it holds nothing to flush).
// args: -listen ADDR -ldap URL -bind-dn DN -people DN -pool N.
func FloorMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(FloorServerCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "HTTP address")
	srv := slapd.Server{BindPassword: os.Getenv(floorPasswordEnv)}
	fs.StringVar(&srv.URL, "ldap", "", "LDAP URL")
	fs.StringVar(&srv.BindDN, "bind-dn", "", "DN to bind as")
	people := fs.String("people", "", "the users' base DN")
	pool := fs.Int("pool", bridgePoolSize, "bound LDAP connections")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(floorGCPercent)
	}
	s, err := newFloor(&srv, *people, *pool, os.Getenv(floorTokenEnv))
	if err != nil {
		fmt.Fprintln(stderr, "floor:", err)
		return 1
	}
	hs := &http.Server{Addr: *listen, Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "floor: serving on %s with %d LDAP connections\n", *listen, *pool)
	err = hs.ListenAndServe()
	fmt.Fprintln(stderr, "floor:", err)
	return 1
}

// floor is the server: a fixed pool of bound connections, a static token.
type floor struct {
	conns  chan *ldap.Conn
	people string
	authz  []byte // the whole Authorization header expected
}

// newFloor dials and binds all pool connections first, so that the floor
// answers /healthz only once it holds the same pool the bridge does.
func newFloor(srv *slapd.Server, people string, pool int, token string) (*floor, error) {
	if srv.URL == "" || people == "" || token == "" || pool < 1 {
		return nil, errors.New("-ldap, -people, -pool >= 1 and " + floorTokenEnv + " are required")
	}
	f := &floor{conns: make(chan *ldap.Conn, pool), people: people, authz: []byte("Bearer " + token)}
	for range pool {
		c, err := srv.Dial()
		if err != nil {
			return nil, err
		}
		c.SetTimeout(time.Minute)
		f.conns <- c
	}
	return f, nil
}

func (f *floor) routes() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	g := e.Group("/scim/v2", f.authenticate)
	g.GET("/Users", f.find)
	g.POST("/Users", f.create)
	g.PATCH("/Users/:id", f.patch)
	g.DELETE("/Users/:id", f.delete)
	return e
}

// with lends a pooled connection to op. No reconnect: the floor lives for
// the runs only, while slapd stays up.
func (f *floor) with(op func(*ldap.Conn) error) error {
	c := <-f.conns
	defer func() { f.conns <- c }()
	return op(c)
}

func (f *floor) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if subtle.ConstantTimeCompare([]byte(c.Request().Header.Get("Authorization")), f.authz) != 1 {
			return scimError(c, http.StatusUnauthorized, "bearer token required")
		}
		return next(c)
	}
}

// find answers Entra's matching query, GET /Users?filter=userName eq "x",
// and nothing else: the value is cut out of the filter, not parsed.
func (f *floor) find(c echo.Context) error {
	v, prefixed := strings.CutPrefix(c.QueryParam("filter"), `userName eq "`)
	v, quoted := strings.CutSuffix(v, `"`)
	if !prefixed || !quoted {
		return scimError(c, http.StatusBadRequest, `the floor answers filter=userName eq "x" only`)
	}
	var res *ldap.SearchResult
	err := f.with(func(l *ldap.Conn) (err error) {
		res, err = l.Search(ldap.NewSearchRequest(f.people, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
			userFilter(v), readAttributes, nil))
		return err
	})
	if err != nil {
		return ldapError(c, err)
	}
	list := floorList{
		Schemas:      []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		TotalResults: len(res.Entries), StartIndex: 1, ItemsPerPage: len(res.Entries),
		Resources: make([]floorUser, 0, len(res.Entries)),
	}
	for _, e := range res.Entries {
		list.Resources = append(list.Resources, resource(c, e))
	}
	return reply(c, http.StatusOK, list)
}

// create adds the entry the direct side adds (addRequest) with the
// post-read control and answers with the entry the add made: the bridge's
// POST on slapd is the same single add (go-ldap's AddWithResult comes from
// the repository's patch, internal/third_party/ldap).
func (f *floor) create(c echo.Context) error {
	var body map[string]any
	if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil {
		return scimError(c, http.StatusBadRequest, err.Error())
	}
	u := user{name: str(body["userName"]), externalID: str(body["externalId"])}
	if name, ok := body["name"].(map[string]any); ok {
		u.given, u.family = str(name["givenName"]), str(name["familyName"])
	}
	// addRequest writes userName as mail; the benchmark's body sends the
	// same value as its work email, which the floor checks rather than
	// carrying an entry builder of its own.
	emails, _ := body["emails"].([]any)
	var email map[string]any
	if len(emails) == 1 {
		email, _ = emails[0].(map[string]any)
	}
	if u.name == "" || str(email["value"]) != u.name {
		return scimError(c, http.StatusBadRequest, "userName and one work email equal to it are required")
	}
	req := addRequest(f.people, u)
	req.Controls = []ldap.Control{floorPostRead{}}
	var res *ldap.AddResult
	err := f.with(func(l *ldap.Conn) (err error) {
		res, err = l.AddWithResult(req)
		return err
	})
	if err != nil {
		return ldapError(c, err)
	}
	e := postReadResult(res.Controls)
	if e == nil {
		return scimError(c, http.StatusInternalServerError, "no post-read entry in the add's answer")
	}
	return reply(c, http.StatusCreated, resource(c, e))
}

// floorPatch is Entra's PatchOp body.
type floorPatch struct {
	Schemas    []string `json:"schemas"`
	Operations []struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	} `json:"Operations"`
}

// patch makes the one modify the bridge makes, with the post-read control
// the bridge sends, and answers 200 with the entry as the modify left it:
// the same single LDAP operation, without the bridge's assertion control.
// Only displayName and title are accepted; their SCIM and LDAP names are
// the same, so no map is needed.
func (f *floor) patch(c echo.Context) error {
	var body floorPatch
	if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil {
		return scimError(c, http.StatusBadRequest, err.Error())
	}
	id, err := url.PathUnescape(c.Param("id"))
	if err != nil {
		return scimError(c, http.StatusBadRequest, err.Error())
	}
	req := ldap.NewModifyRequest(userDN(f.people, id), []ldap.Control{floorPostRead{}})
	for _, op := range body.Operations {
		v, ok := op.Value.(string)
		if !ok || !strings.EqualFold(op.Op, "replace") || (op.Path != "displayName" && op.Path != "title") {
			return scimError(c, http.StatusBadRequest, "the floor replaces displayName and title only")
		}
		req.Replace(op.Path, []string{v})
	}
	var res *ldap.ModifyResult
	err = f.with(func(l *ldap.Conn) (err error) {
		res, err = l.ModifyWithResult(req)
		return err
	})
	if err != nil {
		return ldapError(c, err)
	}
	e := postReadResult(res.Controls)
	if e == nil {
		return scimError(c, http.StatusInternalServerError, "no post-read entry in the modify's answer")
	}
	return reply(c, http.StatusOK, resource(c, e))
}

// delete is one LDAP delete. The floor's id is the uid, so the DN is built,
// not looked up (the bridge caches it); the bridge's search for the user's
// groups has no counterpart here.
func (f *floor) delete(c echo.Context) error {
	id, err := url.PathUnescape(c.Param("id"))
	if err != nil {
		return scimError(c, http.StatusBadRequest, err.Error())
	}
	if err := f.with(func(l *ldap.Conn) error { return l.Del(ldap.NewDelRequest(userDN(f.people, id), nil)) }); err != nil {
		return ldapError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// floorUser is the resource the floor answers with: the fields the bridge
// returns for the benchmark's users, copied from the entry as they are
// (timestamps stay in LDAP's format: no conversion is part of the floor).
type floorUser struct {
	Schemas     []string     `json:"schemas"`
	ID          string       `json:"id"`
	ExternalID  string       `json:"externalId,omitempty"`
	UserName    string       `json:"userName"`
	Active      bool         `json:"active"`
	DisplayName string       `json:"displayName,omitempty"`
	Title       string       `json:"title,omitempty"`
	Name        floorName    `json:"name"`
	Emails      []floorEmail `json:"emails,omitempty"`
	Meta        floorMeta    `json:"meta"`
}

type floorName struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
}

type floorEmail struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

type floorMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location"`
	Version      string `json:"version,omitempty"`
}

type floorList struct {
	Schemas      []string    `json:"schemas"`
	TotalResults int         `json:"totalResults"`
	StartIndex   int         `json:"startIndex"`
	ItemsPerPage int         `json:"itemsPerPage"`
	Resources    []floorUser `json:"Resources"`
}

// resource is the SCIM user of e; its location is absolute, as the bridge's.
func resource(c echo.Context, e *ldap.Entry) floorUser {
	a := e.GetAttributeValue
	u := floorUser{
		Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		ID:      a("uid"), ExternalID: a("employeeNumber"), UserName: a("uid"),
		Active:      a("pwdAccountLockedTime") == "",
		DisplayName: a("displayName"), Title: a("title"),
		Name: floorName{Formatted: a("cn"), FamilyName: a("sn"), GivenName: a("givenName")},
		Meta: floorMeta{
			ResourceType: "User", Created: a("createTimestamp"), LastModified: a("modifyTimestamp"),
			Location: "http://" + c.Request().Host + "/scim/v2/Users/" + url.PathEscape(a("uid")), Version: `W/"` + a("entryCSN") + `"`,
		},
	}
	if m := a("mail"); m != "" {
		u.Emails = []floorEmail{{Value: m, Type: "work"}}
	}
	return u
}

func reply(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, "application/scim+json", b)
}

func scimError(c echo.Context, status int, detail string) error {
	return reply(c, status, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status":  fmt.Sprint(status), "detail": detail,
	})
}

func ldapError(c echo.Context, err error) error {
	status := http.StatusInternalServerError
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		status = http.StatusNotFound
	case ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists):
		status = http.StatusConflict
	}
	return scimError(c, status, err.Error())
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// postReadOID is the post-read control (RFC 4527 §3.2), which the bridge
// sends with a POST's add and a PATCH's modify where the directory supports
// it (slapd does).
const postReadOID = "1.3.6.1.1.13.2"

// postReadSelection is the control's value, the AttributeSelection of
// readAttributes, encoded once: it never changes.
var postReadSelection = func() string {
	sel := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "AttributeSelection")
	for _, a := range readAttributes {
		sel.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "Attribute"))
	}
	return string(sel.Bytes())
}()

// floorPostRead asks for the entry as the add or modify leaves it.
type floorPostRead struct{}

func (floorPostRead) GetControlType() string { return postReadOID }
func (floorPostRead) String() string         { return "Post-Read" }

func (floorPostRead) Encode() *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, postReadOID, "Control Type"))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, postReadSelection, "Control Value"))
	return p
}

// postReadResult decodes the entry in a post-read response control (a
// SearchResultEntry: the DN, then the attributes with their values), nil if
// there is none. go-ldap hands an unknown control over as a ControlString.
func postReadResult(cs []ldap.Control) *ldap.Entry {
	c, ok := ldap.FindControl(cs, postReadOID).(*ldap.ControlString)
	if !ok {
		return nil
	}
	p, err := ber.DecodePacketErr([]byte(c.ControlValue))
	if err != nil || len(p.Children) != 2 {
		return nil
	}
	dn, _ := p.Children[0].Value.(string)
	e := &ldap.Entry{DN: dn}
	for _, a := range p.Children[1].Children {
		if len(a.Children) != 2 {
			return nil
		}
		name, _ := a.Children[0].Value.(string)
		attr := &ldap.EntryAttribute{Name: name}
		for _, v := range a.Children[1].Children {
			attr.Values = append(attr.Values, v.Data.String())
		}
		e.Attributes = append(e.Attributes, attr)
	}
	return e
}
