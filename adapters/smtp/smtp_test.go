package smtp_test

import (
	"testing"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/smtp"
)

// The SMTP adapter against the SMTP sink of deploy/local (skipped when it
// is not running, unless TASKD_TEST_REQUIRE_SERVICES=1).
func TestSMTPSenderContract(t *testing.T) {
	sink := contracttest.RequireSMTP(t)
	from := "taskd@taskd.example"
	sender, err := smtp.New(smtp.Config{Host: sink.Host, Port: sink.Port, From: "taskd <" + from + ">", Username: "taskd", Password: "any"})
	if err != nil {
		t.Fatal(err)
	}
	host, port := contracttest.ClosedPort(t)
	down, err := smtp.New(smtp.Config{Host: host, Port: port, From: from})
	if err != nil {
		t.Fatal(err)
	}
	contracttest.EmailSender(t, contracttest.EmailCase{
		Sender: sender, Box: sink, From: from, Rejected: "nobody@reject.invalid", Down: down,
	})
}

func TestStartTLSIsRequiredUnlessTurnedOff(t *testing.T) {
	sink := contracttest.RequireSMTP(t)
	strict, err := smtp.New(smtp.Config{Host: sink.Host, Port: sink.Port, From: "taskd@taskd.example", StartTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = strict.SendEmail(t.Context(), emailTo("x@example.com"))
	if err == nil {
		t.Fatal("sent in clear text to a server without STARTTLS")
	}
}

func TestMessageIDFollowsTheDelivery(t *testing.T) {
	t.Parallel()
	s, err := smtp.New(smtp.Config{Host: "h", From: "Taskd <no-reply@taskd.example>"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.MessageID("d-1"); got != "<d-1@taskd.example>" {
		t.Fatalf("MessageID = %s", got)
	}
	if _, err := smtp.New(smtp.Config{Host: "h", From: "not an address"}); err == nil {
		t.Fatal("a bad sender was accepted")
	}
	if _, err := smtp.New(smtp.Config{From: "a@b.c"}); err == nil {
		t.Fatal("no host was accepted")
	}
}
