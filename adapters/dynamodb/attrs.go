package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item is one DynamoDB item.
type item = map[string]types.AttributeValue

// Attribute names shared by every item.
const (
	attrPK = "pk"
	attrSK = "sk"
)

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func boolean(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

func key(pk, sk string) item { return item{attrPK: str(pk), attrSK: str(sk)} }

func getS(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it item, name string) (int64, bool) {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		n, err := strconv.ParseInt(v.Value, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func getBool(it item, name string) bool {
	v, ok := it[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func timePtr(it item, name string) *time.Time {
	if v, ok := getN(it, name); ok {
		t := fromMicros(v)
		return &t
	}
	return nil
}

// Cancellation reason codes of TransactWriteItems.
const (
	reasonNone              = "None"
	reasonConditionalFailed = "ConditionalCheckFailed"
	reasonConflict          = "TransactionConflict"
)

// cancelReasons returns the per-item reasons of a cancelled transaction
// (nil for another error).
func cancelReasons(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	out := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		out[i] = aws.ToString(r.Code)
		if out[i] == "" {
			out[i] = reasonNone
		}
	}
	return out
}

// isConflict tells whether a transaction lost to a concurrent one (retry).
func isConflict(err error) bool {
	var tc *types.TransactionConflictException
	if errors.As(err, &tc) {
		return true
	}
	for _, r := range cancelReasons(err) {
		if r == reasonConflict {
			return true
		}
	}
	return false
}

// maxConflictRetries bounds the retries of a transaction that lost to a
// concurrent one on a shared item (a counter of the team, say).
const maxConflictRetries = 12

// transact runs TransactWriteItems, retrying transaction conflicts with
// jittered backoff.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	var err error
	for attempt := 0; ; attempt++ {
		_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil || !isConflict(err) || attempt >= maxConflictRetries {
			return err
		}
		wait := time.Duration(1+attempt) * time.Duration(2+rand.IntN(8)) * time.Millisecond
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// query runs a Query to the end (or until limit items, when limit > 0).
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, limit int) ([]item, error) {
	var out []item
	p := dynamodb.NewQueryPaginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if limit > 0 && len(out) >= limit {
			return out[:limit], nil
		}
	}
	return out, nil
}

// batchGet reads keys (any number) from table, consistently; missing items
// are left out.
func (s *Store) batchGet(ctx context.Context, table string, keys []item, projection ...string) ([]item, error) {
	var out []item
	for start := 0; start < len(keys); start += 100 {
		pending := keys[start:min(start+100, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			ka := types.KeysAndAttributes{Keys: pending, ConsistentRead: aws.Bool(true)}
			if len(projection) > 0 {
				ka.ProjectionExpression, ka.ExpressionAttributeNames = projectionOf(projection)
			}
			res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: ka}})
			if err != nil {
				return nil, err
			}
			out = append(out, res.Responses[table]...)
			pending = res.UnprocessedKeys[table].Keys
			if len(pending) > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

func projectionOf(attrs []string) (*string, map[string]string) {
	names := map[string]string{}
	expr := ""
	for i, a := range attrs {
		p := fmt.Sprintf("#p%d", i)
		names[p] = a
		if i > 0 {
			expr += ", "
		}
		expr += p
	}
	return aws.String(expr), names
}

// batchWrite puts and deletes (any number of requests) in batches of 25,
// retrying unprocessed items.
func (s *Store) batchWrite(ctx context.Context, table string, reqs []types.WriteRequest) error {
	for start := 0; start < len(reqs); start += 25 {
		pending := reqs[start:min(start+25, len(reqs))]
		for attempt := 0; len(pending) > 0; attempt++ {
			res, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: pending}})
			if err != nil {
				return err
			}
			pending = res.UnprocessedItems[table]
			if len(pending) > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func backoff(ctx context.Context, attempt int) error {
	if attempt > 10 {
		return errors.New("dynamodb: requests still unprocessed after 10 retries (throttled?)")
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(1<<min(attempt, 7)) * 10 * time.Millisecond):
		return nil
	}
}

// parallel runs fn over n items from workers goroutines; the first error
// stops the others.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
