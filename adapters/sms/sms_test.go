package sms_test

// No local emulator supports SMS (fauxqs, the project's SNS stand-in,
// publishes to topics only), so these tests check the adapter at the HTTP
// boundary: the real SDK is pointed at an httptest server that verifies
// what AWS would — a SigV4-signed Publish request for the sns service with
// the Action, PhoneNumber and Message — and answers as SNS does.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/taskd/taskd/adapters/sms"
	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

type fakeSNS struct {
	t        *testing.T
	mu       sync.Mutex
	requests []url.Values
	// answer returns the status and body for a request (default: success).
	answer func(form url.Values) (int, string)
}

func (f *fakeSNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.t.Errorf("method %s", r.Method)
	}
	// SigV4: the credential scope names the region and the sns service,
	// and the signature covers the host and the date.
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") ||
		!strings.Contains(auth, "/ap-northeast-2/sns/aws4_request") ||
		!strings.Contains(auth, "SignedHeaders=") || !strings.Contains(auth, "host") ||
		!strings.Contains(auth, "Signature=") || r.Header.Get("X-Amz-Date") == "" {
		f.t.Errorf("not a SigV4 request for sns: Authorization %q", auth)
	}
	if err := r.ParseForm(); err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.requests = append(f.requests, r.PostForm)
	f.mu.Unlock()
	status, body := http.StatusOK, `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>msg-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>`
	if f.answer != nil {
		status, body = f.answer(r.PostForm)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func snsError(code string) string {
	return `<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>` + code +
		`</Code><Message>refused</Message></Error><RequestId>r-2</RequestId></ErrorResponse>`
}

func newSender(t *testing.T, f *fakeSNS) *sms.Sender {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region: "ap-northeast-2", BaseEndpoint: aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	}
	return sms.New(cfg, sms.Config{SenderID: "taskd"})
}

func TestPublishesTheSMSAsASignedRequest(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{t: t}
	s := newSender(t, f)
	text := "[taskd] [마감 임박] 주간 보고서 https://taskd.example/tasks/1"
	id, err := s.SendSMS(context.Background(), n.SMS{ID: "d1", Phone: "+821012345678", Text: text})
	if err != nil || id != "msg-1" {
		t.Fatalf("SendSMS = %q, %v", id, err)
	}
	if len(f.requests) != 1 {
		t.Fatalf("%d requests", len(f.requests))
	}
	form := f.requests[0]
	if form.Get("Action") != "Publish" || form.Get("PhoneNumber") != "+821012345678" || form.Get("Message") != text {
		t.Fatalf("request %v", form)
	}
	if form.Get("TopicArn") != "" || form.Get("TargetArn") != "" {
		t.Errorf("a direct SMS names no topic: %v", form)
	}
	attrs := map[string]string{}
	for i := 1; form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Name", i)) != ""; i++ {
		attrs[form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Name", i))] = form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Value.StringValue", i))
	}
	if attrs["AWS.SNS.SMS.SMSType"] != "Transactional" || attrs["AWS.SNS.SMS.SenderID"] != "taskd" {
		t.Errorf("attributes %v", attrs)
	}
}

func TestClassifiesFailures(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{t: t, answer: func(form url.Values) (int, string) {
		switch form.Get("PhoneNumber") {
		case "+821000000001":
			return http.StatusBadRequest, snsError("InvalidParameter")
		case "+821000000002":
			return http.StatusBadRequest, snsError("Throttling")
		}
		return http.StatusInternalServerError, snsError("InternalError")
	}}
	s := newSender(t, f)
	for phone, permanent := range map[string]bool{"+821000000001": true, "+821000000002": false, "+821000000003": false, "01012345678": true} {
		_, err := s.SendSMS(context.Background(), n.SMS{ID: "d", Phone: phone, Text: "t"})
		if err == nil || n.IsPermanent(err) != permanent {
			t.Errorf("%s: err %v, permanent %v", phone, err, permanent)
		}
	}
	if len(f.requests) != 3 {
		t.Errorf("%d requests: a number that is not E.164 must not be sent", len(f.requests))
	}
	if s.Guarantee() != n.AtMostOnce {
		t.Error("SMS is at most once")
	}
}

func TestLongTextIsCut(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{t: t}
	s := newSender(t, f)
	if _, err := s.SendSMS(context.Background(), n.SMS{ID: "d", Phone: "+14155550100", Text: strings.Repeat("가", 1000)}); err != nil {
		t.Fatal(err)
	}
	if got := []rune(f.requests[0].Get("Message")); len(got) != sms.MaxLength {
		t.Fatalf("sent %d characters", len(got))
	}
}
