// Package sms sends the notifications module's text messages with Amazon
// SNS Publish to a phone number (TASKD_SMS=sns). Region, credentials and
// the endpoint come from the SDK's default chain (config.LoadDefaultConfig,
// AWS_ENDPOINT_URL_SNS …).
//
// No local emulator supports SMS (fauxqs and the others accept topics
// only), so the tests check this adapter at the HTTP boundary: the SDK is
// pointed at a local server that verifies the signed request's Action,
// PhoneNumber and Message (sms_test.go).
//
// Delivery guarantee: at most once. SNS deduplicates only on FIFO topics,
// never for a direct SMS; a second copy costs money and wakes the reader
// twice, so a send interrupted by a crash is not repeated (it is recorded
// "unknown" and alerted).
package sms

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// Config tunes the sender.
type Config struct {
	// SenderID is shown as the sender where the country allows it (optional).
	SenderID string
	// Timeout bounds one request (default 15s).
	Timeout time.Duration
}

// Sender implements the notifications module's SMSSender.
type Sender struct {
	client *sns.Client
	cfg    Config
}

// New builds the sender on an AWS configuration (config.LoadDefaultConfig).
func New(awsCfg aws.Config, cfg Config) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	client := sns.NewFromConfig(awsCfg, func(o *sns.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(cfg.Timeout)
	})
	return &Sender{client: client, cfg: cfg}
}

// Guarantee implements SMSSender: at most once (see the package comment).
func (s *Sender) Guarantee() n.Guarantee { return n.AtMostOnce }

// e164 is an international phone number: + and 8 to 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// MaxLength is the longest text sent: SNS accepts up to 1600 bytes; a
// notification is a title and a link.
const MaxLength = 320

// SendSMS implements SMSSender and returns SNS's MessageId. A number that is
// not E.164 or that SNS refuses is a permanent failure.
func (s *Sender) SendSMS(ctx context.Context, m n.SMS) (string, error) {
	if !e164.MatchString(m.Phone) {
		return "", n.Permanent(fmt.Errorf("sms: %q is not an E.164 phone number", m.Phone))
	}
	text := m.Text
	if utf8.RuneCountInString(text) > MaxLength {
		text = string([]rune(text)[:MaxLength-1]) + "…"
	}
	attrs := map[string]types.MessageAttributeValue{
		"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
	}
	if s.cfg.SenderID != "" {
		attrs["AWS.SNS.SMS.SenderID"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s.cfg.SenderID)}
	}
	out, err := s.client.Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String(m.Phone), Message: aws.String(text), MessageAttributes: attrs})
	if err != nil {
		return "", classify(err)
	}
	return aws.ToString(out.MessageId), nil
}

// permanentCodes are SNS answers no retry can change.
var permanentCodes = map[string]bool{
	"InvalidParameter":      true, // a malformed or opted-out number
	"InvalidParameterValue": true,
	"AuthorizationError":    true,
	"EndpointDisabled":      true,
	"OptedOut":              true,
}

func classify(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && permanentCodes[ae.ErrorCode()] {
		return n.Permanent(fmt.Errorf("sms: %w", err))
	}
	return fmt.Errorf("sms: %w", err)
}
