package main

import (
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
)

// proxy forwards TCP connections on loopback to a target, and can cut
// every connection and refuse new ones, as a database that goes away.
type proxy struct {
	target string
	ln     net.Listener
	addr   string
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) start() error {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.ln, p.addr = ln, ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return nil
}

func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
}

// TestDatabaseOutage: while PostgreSQL is unreachable, requests fail with
// 503 problem+json; when it returns, the server recovers by itself.
func TestDatabaseOutage(t *testing.T) {
	dbURL, schema := testenv.Postgres(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	dir := t.TempDir()
	s := startServer(t, dir, "", func(c *Config) { c.DB, c.Store.DBSchema, c.DataDir = u.String(), schema, filepath.Join(dir, "node") })
	id := s.newSubject(map[string]any{"user_id": "outage"})

	p.cut()
	for _, path := range []string{"/healthz", "/v1/decisions?subject_id=" + id + "&purpose=service"} {
		code, out, h := s.do("GET", path, s.write, nil)
		if code != 503 || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") || h.Get("Retry-After") == "" {
			t.Errorf("%s during the outage: %d %s %s", path, code, h.Get("Content-Type"), out)
		}
		if strings.Contains(string(out), "127.0.0.1") || strings.Contains(string(out), "postgres") {
			t.Errorf("%s: the answer names the database: %s", path, out)
		}
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, out, _ := s.do("GET", "/v1/decisions?subject_id="+id+"&purpose=service", s.write, nil)
		if code == 200 && strings.Contains(string(out), `"allow":true`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database returned: %d %s", code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
