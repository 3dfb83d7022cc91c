package dynamodb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskd/taskd/modules/analytics/domain/report"
)

// countersOf reads the metric attributes of a counters or facts item.
func countersOf(it item) report.Counters {
	c := report.Counters{}
	for name, v := range it {
		switch name {
		case attrPK, attrSK, "name", "priority":
			continue
		}
		if n, ok := v.(*types.AttributeValueMemberN); ok {
			if x, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				c.Add(name, x)
			}
		}
	}
	return c
}

// Counters reads the counter items of keys with one BatchGetItem per 100.
func (s *Store) Counters(ctx context.Context, keys []report.CounterKey) (map[report.CounterKey]report.Counters, error) {
	ks := make([]item, len(keys))
	for i, k := range keys {
		ks[i] = key(countersPK(k.Period), string(k.Scope))
	}
	items, err := s.batchGet(ctx, s.models, ks)
	if err != nil {
		return nil, fmt.Errorf("reading counters: %w", err)
	}
	out := make(map[report.CounterKey]report.Counters, len(items))
	for _, it := range items {
		k := report.CounterKey{Period: strings.TrimPrefix(getS(it, attrPK), "counters#"), Scope: report.Scope(getS(it, attrSK))}
		if c := countersOf(it); len(c) > 0 {
			out[k] = c
		}
	}
	return out, nil
}

// CountersByPrefix queries one period's partition for the scopes with the prefix.
func (s *Store) CountersByPrefix(ctx context.Context, period, scopePrefix string) (map[report.Scope]report.Counters, error) {
	items, err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.models,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(countersPK(period)), ":prefix": str(scopePrefix)},
		ConsistentRead:            aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, fmt.Errorf("reading counters: %w", err)
	}
	out := make(map[report.Scope]report.Counters, len(items))
	for _, it := range items {
		if c := countersOf(it); len(c) > 0 {
			out[report.Scope(getS(it, attrSK))] = c
		}
	}
	return out, nil
}

// OpenTasks queries the open-task partition of scope.
func (s *Store) OpenTasks(ctx context.Context, scope report.Scope) ([]report.OpenTask, error) {
	if scope != report.TeamScope && (scope.UserID() == "") == (scope.SupervisorID() == "") {
		return nil, fmt.Errorf("dynamodb: no open-task list for scope %q", scope)
	}
	items, err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.models,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(openPK(scope))},
		ConsistentRead:            aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, fmt.Errorf("reading open tasks: %w", err)
	}
	out := make([]report.OpenTask, 0, len(items))
	for _, it := range items {
		since, _ := getN(it, "since_us")
		out = append(out, report.OpenTask{
			TaskID: getS(it, attrSK), Name: getS(it, "name"), Priority: getS(it, "priority"),
			PICID: getS(it, "pic_id"), SupervisorID: getS(it, "supervisor_id"),
			Deadline: timePtr(it, "deadline_us"), Since: fromMicros(since),
		})
	}
	return out, nil
}

// OpenSummary reads the open-task partition of scope (the attributes it
// counts only) and counts its tasks at instant.
func (s *Store) OpenSummary(ctx context.Context, scope report.Scope, instant time.Time) ([]report.OpenGroup, error) {
	if scope != report.TeamScope && (scope.SupervisorID() == "" || scope.UserID() != "") {
		return nil, fmt.Errorf("dynamodb: no open-task summary for scope %q", scope)
	}
	proj, names := projectionOf([]string{attrSK, "pic_id", "priority", "since_us", "deadline_us"})
	items, err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.models,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(openPK(scope))},
		ProjectionExpression:      proj,
		ExpressionAttributeNames:  names,
		ConsistentRead:            aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, fmt.Errorf("counting open tasks: %w", err)
	}
	tasks := make([]report.OpenTask, 0, len(items))
	for _, it := range items {
		since, _ := getN(it, "since_us")
		tasks = append(tasks, report.OpenTask{TaskID: getS(it, attrSK), PICID: getS(it, "pic_id"), Priority: getS(it, "priority"),
			Deadline: timePtr(it, "deadline_us"), Since: fromMicros(since)})
	}
	return report.SummarizeOpen(tasks, instant), nil
}

// Facts queries a user's report tasks of one period.
func (s *Store) Facts(ctx context.Context, period, userID string) (map[string]report.Fact, error) {
	items, err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.models,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(factsPK(period, userID))},
		ConsistentRead:            aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, fmt.Errorf("reading report tasks: %w", err)
	}
	out := make(map[string]report.Fact, len(items))
	for _, it := range items {
		out[getS(it, attrSK)] = factOf(it)
	}
	return out, nil
}

func factOf(it item) report.Fact {
	return report.Fact{Name: getS(it, "name"), Priority: getS(it, "priority"), Counts: countersOf(it)}
}
