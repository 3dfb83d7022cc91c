package ses_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/ses"
)

// awsConfig points the SDK at endpoint.
func awsConfig(t *testing.T, endpoint string) aws.Config {
	t.Helper()
	// Not LoadDefaultConfig: AWS_ENDPOINT_URL_SESV2 would win over endpoint.
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}

// The SES v2 adapter against aws-ses-v2-local (skipped when it is not
// running, unless TASKD_TEST_REQUIRE_SERVICES=1).
func TestSESSenderContract(t *testing.T) {
	standIn := contracttest.RequireSES(t)
	from := "taskd@taskd.example"
	sender, err := ses.New(awsConfig(t, standIn.Endpoint), ses.Config{From: from})
	if err != nil {
		t.Fatal(err)
	}
	host, port := contracttest.ClosedPort(t)
	down, err := ses.New(awsConfig(t, "http://"+host+":"+itoa(port)), ses.Config{From: from})
	if err != nil {
		t.Fatal(err)
	}
	contracttest.EmailSender(t, contracttest.EmailCase{Sender: sender, Box: standIn, From: from, Down: down})
}

func TestNewChecksTheSender(t *testing.T) {
	t.Parallel()
	if _, err := ses.New(aws.Config{Region: "us-east-1"}, ses.Config{From: "nope"}); err == nil {
		t.Fatal("a bad sender address was accepted")
	}
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
