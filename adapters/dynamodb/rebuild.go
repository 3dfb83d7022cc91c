package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskd/taskd/modules/analytics/domain/report"
)

// ensureMeta creates the meta item of fresh read models.
func (s *Store) ensureMeta(ctx context.Context) error {
	it := key(metaPK, metaSK)
	it["generation"], it["rebuilding"], it["time_zone"] = num(1), boolean(false), str("")
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.models, Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("creating the analytics meta item: %w", err)
	}
	return nil
}

// Meta reads the meta item.
func (s *Store) Meta(ctx context.Context) (report.Meta, error) {
	res, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.models, Key: key(metaPK, metaSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return report.Meta{}, fmt.Errorf("reading the analytics meta item: %w", err)
	}
	if res.Item == nil {
		return report.Meta{}, errors.New("dynamodb: the analytics meta item is missing (EnsureTables creates it)")
	}
	gen, _ := getN(res.Item, "generation")
	return report.Meta{Generation: gen, Rebuilding: getBool(res.Item, "rebuilding"), TimeZone: getS(res.Item, "time_zone")}, nil
}

// SetTimeZone records tz unless a time zone is recorded.
func (s *Store) SetTimeZone(ctx context.Context, tz string) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.models, Key: key(metaPK, metaSK),
		UpdateExpression:          aws.String("SET time_zone = :tz"),
		ConditionExpression:       aws.String("time_zone = :none"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":tz": str(tz), ":none": str("")},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("recording the report time zone: %w", err)
	}
	return nil
}

// writeWorkers is how many writes a rebuild runs at once.
const writeWorkers = 16

// BeginRebuild raises the flag and a new generation (commits check both in
// their transactions, so none gets through after this), then deletes
// every read-model item but the meta item. Processed-event records carry
// their generation and simply expire.
func (s *Store) BeginRebuild(ctx context.Context, tz string) error {
	if _, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.models, Key: key(metaPK, metaSK),
		UpdateExpression:          aws.String("SET rebuilding = :yes, time_zone = :tz ADD generation :one"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":yes": boolean(true), ":tz": str(tz), ":one": num(1)},
	}); err != nil {
		return fmt.Errorf("flagging the rebuild: %w", err)
	}
	s.generation.Store(0)
	p := dynamodb.NewScanPaginator(s.client, &dynamodb.ScanInput{
		TableName: &s.models, ProjectionExpression: aws.String("pk, sk"), ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("scanning the read models: %w", err)
		}
		var dels []types.WriteRequest
		for _, it := range page.Items {
			if getS(it, attrPK) == metaPK {
				continue
			}
			dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(getS(it, attrPK), getS(it, attrSK))}})
		}
		if err := s.parallelBatchWrite(ctx, s.models, dels); err != nil {
			return fmt.Errorf("deleting read models: %w", err)
		}
	}
	return nil
}

func (s *Store) parallelBatchWrite(ctx context.Context, table string, reqs []types.WriteRequest) error {
	n := (len(reqs) + 24) / 25
	return parallel(ctx, n, writeWorkers, func(ctx context.Context, i int) error {
		return s.batchWrite(ctx, table, reqs[i*25:min((i+1)*25, len(reqs))])
	})
}

// WriteRebuilt puts states and their open-task items, and adds eff with
// one UpdateItem per counter row and fact.
func (s *Store) WriteRebuilt(ctx context.Context, states []report.TaskState, eff report.Effects) error {
	var puts []types.WriteRequest
	for _, st := range states {
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: stateItem(st)}})
		for _, sc := range openScopes(st) {
			puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: openItem(sc, st.OpenTask())}})
		}
	}
	if err := s.parallelBatchWrite(ctx, s.models, puts); err != nil {
		return fmt.Errorf("storing rebuilt states: %w", err)
	}
	ups := updates(eff)
	return parallel(ctx, len(ups), writeWorkers, func(ctx context.Context, i int) error {
		if _, err := s.client.UpdateItem(ctx, ups[i].input(&s.models)); err != nil {
			return fmt.Errorf("adding rebuilt counters: %w", err)
		}
		return nil
	})
}

// EndRebuild lowers the flag.
func (s *Store) EndRebuild(ctx context.Context) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.models, Key: key(metaPK, metaSK),
		UpdateExpression:          aws.String("SET rebuilding = :no"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":no": boolean(false)},
	})
	if err != nil {
		return fmt.Errorf("ending the rebuild: %w", err)
	}
	return nil
}

// LaggingTasks compares each task's highest logged sequence (one scan of
// the log's keys) with its projected state (batched reads).
func (s *Store) LaggingTasks(ctx context.Context) ([]string, error) {
	heads, _, err := s.taskHeads(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]item, 0, len(heads))
	for id := range heads {
		keys = append(keys, key(statePK(id), stateSK))
	}
	items, err := s.batchGet(ctx, s.models, keys, attrPK, "last_seq")
	if err != nil {
		return nil, fmt.Errorf("reading task states: %w", err)
	}
	projected := make(map[string]int64, len(items))
	for _, it := range items {
		seq, _ := getN(it, "last_seq")
		projected[strings.TrimPrefix(getS(it, attrPK), "state#")] = seq
	}
	var out []string
	for id, head := range heads {
		if projected[id] < head {
			out = append(out, id)
		}
	}
	return out, nil
}

// DumpReadModels returns every task state, counter and report task (tests
// compare a rebuild with the live projection through it).
func (s *Store) DumpReadModels(ctx context.Context) ([]report.TaskState, report.Effects, error) {
	eff := report.NewEffects()
	var states []report.TaskState
	p := dynamodb.NewScanPaginator(s.client, &dynamodb.ScanInput{TableName: &s.models, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, eff, err
		}
		for _, it := range page.Items {
			pk, sk := getS(it, attrPK), getS(it, attrSK)
			switch {
			case strings.HasPrefix(pk, "state#"):
				states = append(states, stateOf(it))
			case strings.HasPrefix(pk, "counters#"):
				if c := countersOf(it); len(c) > 0 {
					eff.Counters[report.CounterKey{Period: strings.TrimPrefix(pk, "counters#"), Scope: report.Scope(sk)}] = c
				}
			case strings.HasPrefix(pk, "facts#"):
				period, user, _ := strings.Cut(strings.TrimPrefix(pk, "facts#"), "#")
				eff.Facts[report.FactKey{Period: period, UserID: user, TaskID: sk}] = factOf(it)
			}
		}
	}
	return states, eff, nil
}
