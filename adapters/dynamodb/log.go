package dynamodb

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
)

// The event log table holds four items per event, written in one
// TransactWriteItems:
//
//	pk = <aggregate type>#<aggregate id>  sk = seq#<sequence, 20 digits>   the entry
//	pk = event#<event id>                 sk = event                       the claim (once per event id)
//	pk = actor#<actor id>                 sk = <µs, 19 digits>#<event id>  by actor (not for the system)
//	pk = day#<YYYY-MM-DD, UTC>            sk = <µs, 19 digits>#<event id>  by time
//
// The entry and the claim are conditional puts (attribute_not_exists): a
// redelivered event fails the claim's condition and changes nothing; an
// event with a logged sequence but another id fails the entry's. The index
// items hold ref_pk and ref_sk of their entry.

func entryKey(aggregateType, aggregateID string, seq int64) (string, string) {
	return aggregateType + "#" + aggregateID, seqKey(seq)
}

func seqKey(seq int64) string { return fmt.Sprintf("seq#%020d", seq) }

func timeKey(t time.Time, eventID string) string { return fmt.Sprintf("%019d#%s", micros(t), eventID) }

func dayKey(t time.Time) string { return "day#" + t.UTC().Format(time.DateOnly) }

// Append stores e once per event id.
func (s *Store) Append(ctx context.Context, e eventlog.Entry) (bool, error) {
	pk, sk := entryKey(e.AggregateType, e.AggregateID, e.Sequence)
	entry := key(pk, sk)
	entry["event_id"] = str(e.EventID)
	entry["event_type"] = str(e.Type)
	entry["aggregate_type"] = str(e.AggregateType)
	entry["aggregate_id"] = str(e.AggregateID)
	entry["sequence"] = num(e.Sequence)
	entry["occurred_at"] = str(e.OccurredAt.UTC().Format(time.RFC3339Nano))
	entry["occurred_us"] = num(micros(e.OccurredAt))
	entry["recorded_us"] = num(micros(s.cfg.Now()))
	entry["payload"] = str(string(e.Payload))
	if e.ActorID != "" {
		entry["actor_id"] = str(e.ActorID)
	}
	claim := key("event#"+e.EventID, "event")
	claim["ref_pk"], claim["ref_sk"] = str(pk), str(sk)
	notExists := aws.String("attribute_not_exists(pk)")
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.log, Item: claim, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: &s.log, Item: entry, ConditionExpression: notExists}},
	}
	index := func(ipk string) types.TransactWriteItem {
		it := key(ipk, timeKey(e.OccurredAt, e.EventID))
		it["ref_pk"], it["ref_sk"], it["event_type"] = str(pk), str(sk), str(e.Type)
		return types.TransactWriteItem{Put: &types.Put{TableName: &s.log, Item: it}}
	}
	items = append(items, index(dayKey(e.OccurredAt)))
	if e.ActorID != "" {
		items = append(items, index("actor#"+e.ActorID))
	}
	err := s.transact(ctx, items)
	reasons := cancelReasons(err)
	switch {
	case err == nil:
		return true, nil
	case len(reasons) >= 2 && reasons[0] == reasonConditionalFailed:
		return false, nil // the event id is logged
	case len(reasons) >= 2 && reasons[1] == reasonConditionalFailed:
		return false, eventlog.ErrSequenceConflict.WithMessage("event %s: %s %s already has an event with sequence %d",
			e.EventID, e.AggregateType, e.AggregateID, e.Sequence)
	}
	return false, fmt.Errorf("logging event %s: %w", e.EventID, err)
}

// Entries returns an aggregate's entries after afterSeq, in sequence order.
func (s *Store) Entries(ctx context.Context, aggregateType, aggregateID string, afterSeq int64, limit int) ([]eventlog.Entry, error) {
	if limit < 1 || limit > eventlog.MaxQueryLimit+1 {
		return nil, fmt.Errorf("dynamodb: limit %d out of range", limit)
	}
	pk, _ := entryKey(aggregateType, aggregateID, 0)
	items, err := s.query(ctx, &dynamodb.QueryInput{
		TableName:              &s.log,
		KeyConditionExpression: aws.String("pk = :pk AND sk > :after"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":after": str(seqKey(afterSeq)),
		},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(int32(limit)),
	}, limit)
	if err != nil {
		return nil, fmt.Errorf("reading the log of %s: %w", pk, err)
	}
	return entriesOf(items)
}

func entriesOf(items []item) ([]eventlog.Entry, error) {
	out := make([]eventlog.Entry, 0, len(items))
	for _, it := range items {
		e, err := eventlog.ParseEntry([]byte(getS(it, "payload")))
		if err != nil {
			return nil, fmt.Errorf("log item %s %s: %w", getS(it, attrPK), getS(it, attrSK), err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Events returns the entries q selects in (occurred_at, event id) order:
// one query of the actor's partition, or of each day's from From to To.
func (s *Store) Events(ctx context.Context, q eventlog.Query) ([]eventlog.Entry, error) {
	if q.Limit < 1 || q.Limit > eventlog.MaxQueryLimit+1 {
		return nil, fmt.Errorf("dynamodb: limit %d out of range", q.Limit)
	}
	lo := timeKey(q.From, "")
	after := ""
	if q.After != nil {
		after = timeKey(q.After.OccurredAt, q.After.EventID)
		lo = max(lo, after)
	}
	// Keys of instants before To sort below "<µs of To>" (a prefix of theirs).
	hi := fmt.Sprintf("%019d", micros(q.To))
	if lo > hi {
		return nil, nil
	}
	var partitions []string
	if q.ActorID != "" {
		partitions = []string{"actor#" + q.ActorID}
	} else {
		first := q.From
		if q.After != nil && q.After.OccurredAt.After(first) {
			first = q.After.OccurredAt
		}
		for d := first.UTC().Truncate(24 * time.Hour); d.Before(q.To); d = d.Add(24 * time.Hour) {
			partitions = append(partitions, dayKey(d))
		}
	}
	var refs []item
	for _, p := range partitions {
		items, err := s.query(ctx, &dynamodb.QueryInput{
			TableName:              &s.log,
			KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(p), ":lo": str(lo), ":hi": str(hi),
			},
			ConsistentRead: aws.Bool(true),
			Limit:          aws.Int32(int32(q.Limit + 1)),
		}, q.Limit+1)
		if err != nil {
			return nil, fmt.Errorf("reading the log partition %s: %w", p, err)
		}
		for _, it := range items {
			if getS(it, attrSK) != after {
				refs = append(refs, it)
			}
		}
		if len(refs) >= q.Limit {
			break
		}
	}
	if len(refs) > q.Limit {
		refs = refs[:q.Limit]
	}
	keys := make([]item, len(refs))
	for i, r := range refs {
		keys[i] = key(getS(r, "ref_pk"), getS(r, "ref_sk"))
	}
	items, err := s.batchGet(ctx, s.log, keys)
	if err != nil {
		return nil, fmt.Errorf("reading log entries: %w", err)
	}
	out, err := entriesOf(items)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b eventlog.Entry) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return strings.Compare(a.EventID, b.EventID)
	})
	return out, nil
}

// scanWorkers is how many queries a rebuild runs at once.
const scanWorkers = 16

// taskHeads scans the log's entry keys and returns each task's highest
// logged sequence and the number of task entries.
func (s *Store) taskHeads(ctx context.Context) (map[string]int64, int64, error) {
	heads := map[string]int64{}
	var n int64
	p := dynamodb.NewScanPaginator(s.client, &dynamodb.ScanInput{
		TableName:                 &s.log,
		ProjectionExpression:      aws.String("pk, sk"),
		FilterExpression:          aws.String("begins_with(pk, :task) AND begins_with(sk, :seq)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":task": str(eventlog.AggregateTask + "#"), ":seq": str("seq#")},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("scanning the event log: %w", err)
		}
		for _, it := range page.Items {
			id := strings.TrimPrefix(getS(it, attrPK), eventlog.AggregateTask+"#")
			seq, err := strconv.ParseInt(strings.TrimPrefix(getS(it, attrSK), "seq#"), 10, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("log item %s: bad sort key %q", id, getS(it, attrSK))
			}
			heads[id] = max(heads[id], seq)
			n++
		}
	}
	return heads, n, nil
}

// ScanTasks lists the tasks of the log with one scan of its keys, then
// reads each task's entries (several queries at once) and hands them to fn
// one task at a time.
func (s *Store) ScanTasks(ctx context.Context, total func(int64), fn func(string, []eventlog.Entry) error) error {
	heads, n, err := s.taskHeads(ctx)
	if err != nil {
		return err
	}
	total(n)
	ids := make([]string, 0, len(heads))
	for id := range heads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	type result struct {
		id      string
		entries []eventlog.Entry
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, scanWorkers)
	errc := make(chan error, 1)
	go func() {
		defer close(results)
		errc <- parallel(ctx, len(ids), scanWorkers, func(ctx context.Context, i int) error {
			var all []eventlog.Entry
			for after := int64(0); ; {
				page, err := s.Entries(ctx, eventlog.AggregateTask, ids[i], after, eventlog.MaxQueryLimit)
				if err != nil {
					return err
				}
				all = append(all, page...)
				if len(page) < eventlog.MaxQueryLimit {
					break
				}
				after = page[len(page)-1].Sequence
			}
			select {
			case results <- result{ids[i], all}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	for r := range results {
		if err := fn(r.id, r.entries); err != nil {
			cancel()
			for range results { // let the readers finish
			}
			<-errc
			return err
		}
	}
	return <-errc
}
