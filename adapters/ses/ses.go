// Package ses sends the notifications module's e-mail through Amazon SES v2
// (TASKD_EMAIL=ses). Region, credentials and the endpoint come from the
// SDK's default chain (config.LoadDefaultConfig: AWS_REGION,
// AWS_ENDPOINT_URL_SESV2 …); nothing here reads the environment.
//
// Delivery guarantee: at most once. SES v2 SendEmail takes no idempotency
// token and replaces any Message-ID it is given, so a message that may have
// reached SES before a crash is not sent again: the dispatcher records it
// as "unknown" and alerts. The delivery id travels as the header
// X-Taskd-Delivery-Id and the message tag "delivery" for tracing.
package ses

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

// Config is the sender and optional SES settings.
type Config struct {
	// From is the verified sender address (TASKD_EMAIL_FROM).
	From string
	// ConfigurationSet names an SES configuration set (events, suppression); optional.
	ConfigurationSet string
	// Timeout bounds one request (default 15s).
	Timeout time.Duration
}

// Sender implements the notifications module's EmailSender.
type Sender struct {
	client *sesv2.Client
	cfg    Config
}

// New builds the sender on an AWS configuration (config.LoadDefaultConfig).
func New(awsCfg aws.Config, cfg Config) (*Sender, error) {
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("ses: sender address %q: %w", cfg.From, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	client := sesv2.NewFromConfig(awsCfg, func(o *sesv2.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(cfg.Timeout)
	})
	return &Sender{client: client, cfg: cfg}, nil
}

// Guarantee implements EmailSender: at most once (see the package comment).
func (s *Sender) Guarantee() n.Guarantee { return n.AtMostOnce }

var tagValue = regexp.MustCompile(`[^A-Za-z0-9_\-.@]`)

// SendEmail implements EmailSender and returns SES's MessageId.
func (s *Sender) SendEmail(ctx context.Context, e n.Email) (string, error) {
	if _, err := mail.ParseAddress(e.To); err != nil {
		return "", n.Permanent(fmt.Errorf("ses: recipient %q: %w", e.To, err))
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.cfg.From),
		Destination:      &types.Destination{ToAddresses: []string{e.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(e.Subject), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(e.Text), Charset: aws.String("UTF-8")}},
			Headers: []types.MessageHeader{{Name: aws.String("X-Taskd-Delivery-Id"), Value: aws.String(e.ID)}},
		}},
		EmailTags: []types.MessageTag{{Name: aws.String("delivery"), Value: aws.String(tagValue.ReplaceAllString(e.ID, "_"))}},
	}
	if s.cfg.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.cfg.ConfigurationSet)
	}
	out, err := s.client.SendEmail(ctx, in)
	if err != nil {
		return "", classify(err)
	}
	return aws.ToString(out.MessageId), nil
}

// permanentCodes are SES answers no retry can change: a refused message or
// address, an unverified sender, a suspended account.
var permanentCodes = map[string]bool{
	"MessageRejected":                    true,
	"MailFromDomainNotVerifiedException": true,
	"AccountSuspendedException":          true,
	"BadRequestException":                true,
	"NotFoundException":                  true,
}

func classify(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && permanentCodes[ae.ErrorCode()] {
		return n.Permanent(fmt.Errorf("ses: %w", err))
	}
	return fmt.Errorf("ses: %w", err)
}
