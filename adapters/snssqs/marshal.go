package snssqs

import (
	"context"
	"strconv"

	wsns "github.com/ThreeDotsLabs/watermill-aws/sns"
	wsqs "github.com/ThreeDotsLabs/watermill-aws/sqs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Metadata the SQS subscriber adds to each message it receives, for Settle.
// Keys starting with "_" are bookkeeping: never stored with a dead letter,
// never sent on.
const (
	MetaReceiptHandle = "_sqs_receipt_handle"
	MetaReceiveCount  = "_sqs_receive_count"
	MetaSQSMessageID  = "_sqs_message_id"
)

// publishMarshaler is watermill-aws's SNS marshaler with two changes.
//
// It sets TopicArn instead of TargetArn: the local stand-in (fauxqs) rejects
// a Publish with TargetArn ("TopicArn is required"), which the default
// marshaler sends, while real AWS accepts either for a topic; TopicArn works
// on both.
//
// It drops attributes with empty values, which SNS rejects.
type publishMarshaler struct {
	wsns.DefaultMarshalerUnmarshaler
}

func (m publishMarshaler) Marshal(topicARN wsns.TopicArn, msg *message.Message) *sns.PublishInput {
	in := m.DefaultMarshalerUnmarshaler.Marshal(topicARN, msg)
	in.TopicArn, in.TargetArn = aws.String(string(topicARN)), nil
	for k, v := range in.MessageAttributes {
		if aws.ToString(v.StringValue) == "" && len(v.BinaryValue) == 0 {
			delete(in.MessageAttributes, k)
		}
	}
	return in
}

// receiveUnmarshaler is watermill-aws's SQS unmarshaler that also keeps the
// receipt handle and the receive count, so Settle can change the message's
// visibility and knows when SQS will give up on it.
type receiveUnmarshaler struct {
	wsqs.DefaultMarshalerUnmarshaler
}

func (u receiveUnmarshaler) Unmarshal(m *sqstypes.Message) (*message.Message, error) {
	msg, err := u.DefaultMarshalerUnmarshaler.Unmarshal(m)
	if err != nil {
		return nil, err
	}
	msg.Metadata.Set(MetaReceiptHandle, aws.ToString(m.ReceiptHandle))
	msg.Metadata.Set(MetaSQSMessageID, aws.ToString(m.MessageId))
	msg.Metadata.Set(MetaReceiveCount, m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	return msg, nil
}

// receiveInput asks for one message at a time (a nacked message makes
// watermill's subscriber drop the rest of a batch, which would count
// receives against innocent messages) with its attributes and receive count.
func receiveInput(wait int32) wsqs.GenerateReceiveMessageInputFunc {
	return func(ctx context.Context, url wsqs.QueueURL) (*sqs.ReceiveMessageInput, error) {
		return &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(string(url)),
			MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
				sqstypes.MessageSystemAttributeNameApproximateReceiveCount,
			},
			WaitTimeSeconds:     wait,
			MaxNumberOfMessages: 1,
		}, nil
	}
}

// sendAttributes turns stored metadata into SQS message attributes for a
// replay, with the event id as watermill's message UUID.
func sendAttributes(eventID string, meta map[string]string) map[string]sqstypes.MessageAttributeValue {
	out := map[string]sqstypes.MessageAttributeValue{
		wsqs.UUIDAttribute: {DataType: aws.String("String"), StringValue: aws.String(eventID)},
	}
	for k, v := range meta {
		if v == "" || len(k) == 0 || k[0] == '_' {
			continue
		}
		out[k] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
