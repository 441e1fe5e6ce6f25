package slapd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Replica makes a server one of two OpenLDAP providers that replicate to each other with
// delta-syncrepl (multi-provider), for high-availability tests. StartPair fills it in; it is
// exported so that a caller can see what a provider was started with.
//
// The settings are the ones measured in docs/directory-lab.md ("Two OpenLDAP providers"),
// written into slapd.conf rather than added over cn=config: everything is in place when slapd
// starts, so the first replication session cannot run without its serverID (which in cn=config
// made changes echo back and re-create deleted entries).
type Replica struct {
	ServerID int    // 1-999 and different on each provider (0 is for a single provider); also the syncrepl rid
	Peer     string // the other provider's URL, e.g. ldap://127.0.0.1:40124/
	// Seed is an LDIF file (a slapcat of the peer) loaded into the empty database instead of
	// the base entries: both providers must start with the same entryUUID and entryCSN for each
	// DN, and slapadd'ing the base LDIF twice would mint different ones.
	//
	// A replica's database is loaded with slapadd -w, which stores the suffix's contextCSN (the
	// newest entryCSN), so that the slapcat carries it to the peer and both start with the same
	// one, copied into each accesslog database. Without it each provider minted its own at
	// start and the log database had none: every session ended in "consumer has state info but
	// provider doesn't!" (53) until the first write.
	Seed string
}

// replicaGlobals go before the first database: serverID and the modules are global settings.
const replicaGlobals = `
# --- delta-syncrepl provider (internal/slapd/replica.go) ---
serverID @SID@
moduleload syncprov
moduleload accesslog
`

// replicaMainDB goes before the main database's first overlay, because syncrepl and
// multiprovider are database directives and multiprovider needs syncrepl configured first.
// retry "1 +": reconnect every second for ever, so a provider that starts before its peer, or
// outlives a killed one, picks replication up again by itself. The filter limits replay to
// successful writes, as the OpenLDAP admin guide's delta-syncrepl example does.
const replicaMainDB = `
index entryCSN eq
syncrepl rid=@RID@
	provider=@PEER@
	bindmethod=simple
	binddn="@ROOTDN@"
	credentials="@CREDENTIALS@"
	searchbase="@SUFFIX@"
	type=refreshAndPersist
	retry="1 +"
	timeout=3
	network-timeout=3
	syncdata=accesslog
	logbase="cn=accesslog"
	logfilter="(&(objectClass=auditWriteObject)(reqResult=0))"
multiprovider on

`

// replicaOverlays end the main database and add the accesslog database after it (after, so that
// slapadd and slapcat without -b still pick the main database, the first one).
//
// syncprov-checkpoint 1 1 writes contextCSN after every write: with "100 1", a provider killed
// with SIGKILL came back with an older contextCSN than its peer had seen, and in 5 of 16 runs
// the peer stopped replicating from it for good ("consumer ... is newer than provider", then
// "(53) Server is unwilling to perform"); with "1 1", 0 of 10.
//
// The accesslog database's syncprov needs the same checkpoint, although the OpenLDAP admin
// guide's delta-syncrepl example has none: without it, that database's contextCSN is not
// stored while slapd runs, so a killed provider came back with the log's contextCSN of its
// start (serverID 0's value only). Its peer's consumer then got "no change, skipping log replay" for
// the writes the peer had missed (acknowledged just before the kill, or made while the peer
// was down), and the next write moved the peer's cookie past them: lost for good, although
// both contextCSNs agreed (testenv's TestReplicatedWriteBeforeCrash).
const replicaOverlays = `
overlay syncprov
syncprov-checkpoint 1 1
syncprov-sessionlog 10000

# Every successful write, kept a day and purged hourly: delta-syncrepl replays it on the peer.
overlay accesslog
logdb cn=accesslog
logops writes
logsuccess TRUE
logpurge 1+00:00 0+01:00

database mdb
maxsize 268435456
suffix "cn=accesslog"
rootdn "@ROOTDN@"
directory "@DIR@/accesslog"
dbnosync
index entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN eq

overlay syncprov
syncprov-nopresent TRUE
syncprov-reloadhint TRUE
syncprov-checkpoint 1 1
`

// apply adds the replication settings to a rendered slapd.conf.
func (r *Replica) apply(conf, dir, rootPW string) (string, error) {
	if r.ServerID < 1 || r.ServerID > 999 { // serverID allows 4095, the three-digit rid only 999
		return "", fmt.Errorf("replica serverID %d: want 1-999", r.ServerID)
	}
	// The password goes into slapd.conf in clear inside double quotes; slapd.conf has no
	// reliable escape for these, so refuse rather than write a broken file.
	if strings.ContainsAny(rootPW, "\"\\\n\r") {
		return "", errors.New("replica: the root password must not contain quotes, backslashes or newlines")
	}
	rep := strings.NewReplacer(
		"@SID@", strconv.Itoa(r.ServerID),
		"@RID@", fmt.Sprintf("%03d", r.ServerID),
		"@PEER@", r.Peer,
		"@ROOTDN@", DefaultBindDN,
		"@CREDENTIALS@", rootPW,
		"@SUFFIX@", DefaultBaseDN,
		"@DIR@", dir,
	)
	db := strings.Index(conf, "\ndatabase ")
	ov := strings.Index(conf, "\noverlay ")
	if db < 0 || ov < db {
		return "", errors.New("replica: slapd.conf has no database with overlays to extend")
	}
	return conf[:db] + rep.Replace(replicaGlobals) + conf[db:ov] + rep.Replace(replicaMainDB) + conf[ov:] +
		rep.Replace(replicaOverlays), nil
}

// StartPair starts two private slapds that replicate to each other (delta-syncrepl,
// multi-provider), serverIDs 1 and 2, each with its own temp dir and loopback port and the same
// root password. opts.Password and opts.Logf apply to both; Dir, Port and TLS must be zero.
//
// Provider 2 is seeded with a slapcat of provider 1 before either starts, so both begin with the
// same entries, entryUUIDs and contextCSN. Each configuration names the other's port, so both
// ports are picked first; if one is taken before slapd binds it, the pair is built again.
func StartPair(ctx context.Context, opts Options) ([2]*Slapd, error) {
	if opts.Dir != "" || opts.Port != 0 || opts.TLS {
		return [2]*Slapd{}, errors.New("StartPair: Dir, Port and TLS are not supported")
	}
	if opts.Password == "" {
		opts.Password = RandomPassword()
	}
	for attempt := 0; ; attempt++ {
		pair, err := startPair(ctx, opts)
		if err == nil || attempt == 2 || !errors.Is(err, errAddrInUse) {
			return pair, err
		}
	}
}

func startPair(ctx context.Context, opts Options) (pair [2]*Slapd, err error) {
	ports, err := freePorts(2)
	if err != nil {
		return pair, err
	}
	defer func() {
		if err != nil {
			for _, s := range pair {
				if s != nil {
					_ = s.Stop()
				}
			}
			pair = [2]*Slapd{}
		}
	}()
	for i := range pair {
		if pair[i], err = newSlapd(Options{Logf: opts.Logf}); err != nil {
			return pair, err
		}
		pair[i].Server = Server{BindDN: DefaultBindDN, BindPassword: opts.Password, BaseDN: DefaultBaseDN}
		pair[i].replica = &Replica{ServerID: i + 1, Peer: "ldap://127.0.0.1:" + strconv.Itoa(ports[1-i]) + "/"}
	}
	if err = pair[0].prepare(ctx, opts.Password); err != nil {
		return pair, err
	}
	seed := filepath.Join(pair[1].dir, "seed.ldif")
	if err = pair[0].export(ctx, seed); err != nil {
		return pair, err
	}
	pair[1].replica.Seed = seed
	if err = pair[1].prepare(ctx, opts.Password); err != nil {
		return pair, err
	}
	for i, s := range pair {
		if err = s.startOnPort(ctx, ports[i]); err != nil {
			return pair, err
		}
	}
	return pair, nil
}

// export writes the main database as LDIF (slapcat), operational attributes included, so that
// slapadd of the file reproduces the same entryUUIDs and entryCSNs.
func (s *Slapd) export(ctx context.Context, file string) error {
	out, err := exec.CommandContext(ctx, s.bin, "-T", "cat", "-f", filepath.Join(s.dir, "slapd.conf"),
		"-b", DefaultBaseDN, "-l", file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("slapcat of %s: %v: %s", s.dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// prepareReplica adds the replication settings to conf and creates the accesslog database's
// directory. It returns the LDIF file to load into an empty database, "" for the base entries.
func (s *Slapd) prepareReplica(conf, pw string) (string, string, error) {
	if s.replica == nil {
		return conf, "", nil
	}
	conf, err := s.replica.apply(conf, s.dir, pw)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "accesslog"), 0o700); err != nil {
		return "", "", err
	}
	return conf, s.replica.Seed, nil
}

// Replica is the replication setup the server was started with, nil for a single server.
func (s *Slapd) Replica() *Replica {
	if s.replica == nil {
		return nil
	}
	r := *s.replica // a copy: the caller must not change a running configuration
	return &r
}

// freePorts picks n different free loopback ports: the listeners stay open until all are
// picked, since a port just closed may be handed out again at once.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
