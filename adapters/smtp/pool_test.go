package smtp_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/smtp"
)

// miniServer speaks just enough SMTP to count sessions and messages; with
// hangUp it ends every session after its first message, as a server does
// with an idle client.
type miniServer struct {
	ln       net.Listener
	hangUp   bool
	sessions atomic.Int32
	messages atomic.Int32
	wg       sync.WaitGroup
}

func newMiniServer(t *testing.T, hangUp bool) *miniServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &miniServer{ln: ln, hangUp: hangUp}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.sessions.Add(1)
			s.wg.Add(1)
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *miniServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 mini")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250 mini")
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go on")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			s.messages.Add(1)
			say("250 queued")
			if s.hangUp {
				return
			}
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *miniServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func TestSessionsAreReusedAndStaleOnesReplaced(t *testing.T) {
	t.Parallel()
	for _, hangUp := range []bool{false, true} {
		srv := newMiniServer(t, hangUp)
		s, err := smtp.New(smtp.Config{Host: "127.0.0.1", Port: srv.port(), From: "taskd@taskd.example"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := s.SendEmail(ctx, emailTo("x@example.com")); err != nil {
				t.Fatalf("hang up %v, message %d: %v", hangUp, i, err)
			}
			cancel()
		}
		want := int32(1)
		if hangUp {
			want = 5 // each RSET on a closed session fails, and a new one is opened
		}
		if srv.messages.Load() != 5 || srv.sessions.Load() != want {
			t.Errorf("hang up %v: %d messages over %d sessions, want 5 over %d", hangUp, srv.messages.Load(), srv.sessions.Load(), want)
		}
		_ = s.Close()
	}
}
