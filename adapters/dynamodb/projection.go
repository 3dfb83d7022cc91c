package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskd/taskd/modules/analytics/domain/report"
)

// The read-models table (<env>-report-counters):
//
//	pk = meta                        sk = projection  generation, rebuilding, time_zone
//	pk = state#<task id>             sk = state       the task's projected state (last_seq …)
//	pk = counters#<period>           sk = <scope>     one number attribute per metric
//	pk = facts#<period>#<user id>    sk = <task id>   a task's part in a user's numbers
//	pk = open#<scope>                sk = <task id>   a task open now (scopes team, user:<pic>, sup:<id>)
//
// The processed-events table (<env>-processed-events, TTL expires_at):
//
//	pk = analytics#g<generation>#<event id>                       an event projected
//	pk = analytics#g<generation>#part#<task id>#<sequence>#<n>    part n of a large commit applied

const (
	metaPK, metaSK = "meta", "projection"
	stateSK        = "state"
)

func statePK(taskID string) string         { return "state#" + taskID }
func countersPK(period string) string      { return "counters#" + period }
func factsPK(period, userID string) string { return "facts#" + period + "#" + userID }
func openPK(scope report.Scope) string     { return "open#" + string(scope) }
func markerPK(gen int64, eventID string) string {
	return "analytics#g" + strconv.FormatInt(gen, 10) + "#" + eventID
}
func partPK(gen int64, taskID string, seq int64, part int) string {
	return fmt.Sprintf("analytics#g%d#part#%s#%d#%d", gen, taskID, seq, part)
}

// TaskState returns the projected state of a task (LastSeq 0 when none).
func (s *Store) TaskState(ctx context.Context, taskID string) (report.TaskState, error) {
	res, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.models, Key: key(statePK(taskID), stateSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return report.TaskState{}, fmt.Errorf("reading the state of task %s: %w", taskID, err)
	}
	if res.Item == nil {
		return report.TaskState{TaskID: taskID}, nil
	}
	return stateOf(res.Item), nil
}

func stateItem(st report.TaskState) item {
	it := key(statePK(st.TaskID), stateSK)
	it["task_id"] = str(st.TaskID)
	it["last_seq"] = num(st.LastSeq)
	it["since_us"] = num(micros(st.Since))
	it["name"] = str(st.Name)
	it["status"] = str(st.Status)
	it["priority"] = str(st.Priority)
	it["pic_id"] = str(st.PICID)
	it["supervisor_id"] = str(st.SupervisorID)
	it["creator_id"] = str(st.CreatorID)
	it["deleted"] = boolean(st.Deleted)
	if st.Deadline != nil {
		it["deadline_us"] = num(micros(*st.Deadline))
	}
	if st.StartedAt != nil {
		it["started_us"] = num(micros(*st.StartedAt))
	}
	return it
}

func stateOf(it item) report.TaskState {
	seq, _ := getN(it, "last_seq")
	since, _ := getN(it, "since_us")
	return report.TaskState{
		TaskID: getS(it, "task_id"), LastSeq: seq, Since: fromMicros(since),
		Name: getS(it, "name"), Status: getS(it, "status"), Priority: getS(it, "priority"),
		Deadline: timePtr(it, "deadline_us"), PICID: getS(it, "pic_id"), SupervisorID: getS(it, "supervisor_id"),
		CreatorID: getS(it, "creator_id"), StartedAt: timePtr(it, "started_us"), Deleted: getBool(it, "deleted"),
	}
}

// openScopes are the scopes whose open-task lists hold st.
func openScopes(st report.TaskState) []report.Scope {
	if !st.IsOpen() {
		return nil
	}
	out := []report.Scope{report.TeamScope}
	if st.PICID != "" {
		out = append(out, report.UserScope(st.PICID))
	}
	if st.SupervisorID != "" {
		out = append(out, report.SupervisorScope(st.SupervisorID))
	}
	return out
}

func openItem(scope report.Scope, t report.OpenTask) item {
	it := key(openPK(scope), t.TaskID)
	it["name"] = str(t.Name)
	it["priority"] = str(t.Priority)
	it["pic_id"] = str(t.PICID)
	it["supervisor_id"] = str(t.SupervisorID)
	it["since_us"] = num(micros(t.Since))
	if t.Deadline != nil {
		it["deadline_us"] = num(micros(*t.Deadline))
	}
	return it
}

// update is one UpdateItem of counters or a fact.
type update struct {
	key   item
	expr  string
	names map[string]string
	vals  map[string]types.AttributeValue
}

func (u update) write(table *string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: table, Key: u.key, UpdateExpression: aws.String(u.expr),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.vals,
	}}
}

func (u update) input(table *string) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName: table, Key: u.key, UpdateExpression: aws.String(u.expr),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.vals,
	}
}

// updates turns effects into one UpdateItem per counter row and fact, in
// key order (a split into transactions is then the same on every retry).
func updates(eff report.Effects) []update {
	var out []update
	ckeys := slices.Collect(mapsKeys(eff.Counters))
	slices.SortFunc(ckeys, func(a, b report.CounterKey) int {
		return strings.Compare(a.Period+"\x00"+string(a.Scope), b.Period+"\x00"+string(b.Scope))
	})
	for _, k := range ckeys {
		if u, ok := addUpdate(key(countersPK(k.Period), string(k.Scope)), eff.Counters[k], nil); ok {
			out = append(out, u)
		}
	}
	fkeys := slices.Collect(mapsKeys(eff.Facts))
	slices.SortFunc(fkeys, func(a, b report.FactKey) int {
		return strings.Compare(a.Period+"\x00"+a.UserID+"\x00"+a.TaskID, b.Period+"\x00"+b.UserID+"\x00"+b.TaskID)
	})
	for _, k := range fkeys {
		f := eff.Facts[k]
		if u, ok := addUpdate(key(factsPK(k.Period, k.UserID), k.TaskID), f.Counts, map[string]string{"name": f.Name, "priority": f.Priority}); ok {
			out = append(out, u)
		}
	}
	return out
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// addUpdate is "SET <set…> ADD <metric> :n, …" (metric names go through
// expression attribute names: they hold dots).
func addUpdate(k item, counts report.Counters, set map[string]string) (update, bool) {
	u := update{key: k, names: map[string]string{}, vals: map[string]types.AttributeValue{}}
	metrics := slices.Sorted(mapsKeys(counts))
	var adds, sets []string
	for i, m := range metrics {
		if counts[m] == 0 {
			continue
		}
		n, v := fmt.Sprintf("#m%d", i), fmt.Sprintf(":m%d", i)
		u.names[n], u.vals[v] = m, num(counts[m])
		adds = append(adds, n+" "+v)
	}
	for i, a := range slices.Sorted(mapsKeys(set)) {
		n, v := fmt.Sprintf("#s%d", i), fmt.Sprintf(":s%d", i)
		u.names[n], u.vals[v] = a, str(set[a])
		sets = append(sets, n+" = "+v)
	}
	if len(adds) == 0 && len(sets) == 0 {
		return update{}, false
	}
	if len(sets) > 0 {
		u.expr = "SET " + strings.Join(sets, ", ")
	}
	if len(adds) > 0 {
		u.expr = strings.TrimSpace(u.expr + " ADD " + strings.Join(adds, ", "))
	}
	return u, true
}

// maxTransactItems is DynamoDB's limit of actions per TransactWriteItems.
const maxTransactItems = 100

// Commit applies c with TransactWriteItems: a condition on the meta item
// (no rebuild, the cached generation), the state put conditioned on its
// last_seq, one processed-event record per event (conditional), the open
// task items, and an update per counter row and fact. A commit with more
// actions than a transaction takes (an open task that spanned many period
// ends) sends its updates first in parts, each with its own part record so
// a retried commit skips the parts already applied, and the state last.
func (s *Store) Commit(ctx context.Context, c report.Commit) error {
	if c.After.TaskID == "" || c.After.LastSeq <= c.Before.LastSeq {
		return fmt.Errorf("dynamodb: a commit must move a task forward (%d → %d)", c.Before.LastSeq, c.After.LastSeq)
	}
	for attempt := 0; ; attempt++ {
		gen, err := s.currentGeneration(ctx)
		if err != nil {
			return err
		}
		err = s.commit(ctx, c, gen)
		if !errors.Is(err, errMetaChanged) {
			return err
		}
		// The cached generation is stale, or a rebuild runs: look again.
		s.generation.Store(0)
		meta, merr := s.Meta(ctx)
		if merr != nil {
			return merr
		}
		if meta.Rebuilding {
			return report.ErrRebuilding
		}
		if attempt >= 2 {
			return fmt.Errorf("dynamodb: the read models' generation keeps changing: %w", report.ErrStaleState)
		}
	}
}

var errMetaChanged = errors.New("dynamodb: the meta item changed")

func (s *Store) currentGeneration(ctx context.Context) (int64, error) {
	if g := s.generation.Load(); g > 0 {
		return g, nil
	}
	meta, err := s.Meta(ctx)
	if err != nil {
		return 0, err
	}
	if meta.Rebuilding {
		return 0, report.ErrRebuilding
	}
	s.generation.Store(meta.Generation)
	return meta.Generation, nil
}

func (s *Store) metaCheck(gen int64) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &s.models, Key: key(metaPK, metaSK),
		ConditionExpression:       aws.String("rebuilding = :no AND generation = :gen"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":no": boolean(false), ":gen": num(gen)},
	}}
}

func (s *Store) commit(ctx context.Context, c report.Commit, gen int64) error {
	expires := num(s.cfg.Now().Add(s.cfg.ProcessedTTL).Unix())
	notExists := aws.String("attribute_not_exists(pk)")
	// The fixed part: meta check, state, event records, open items.
	final := []types.TransactWriteItem{s.metaCheck(gen)}
	statePut := &types.Put{TableName: &s.models, Item: stateItem(c.After), ConditionExpression: notExists}
	if c.Before.LastSeq > 0 {
		statePut.ConditionExpression = aws.String("last_seq = :prev")
		statePut.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(c.Before.LastSeq)}
	}
	final = append(final, types.TransactWriteItem{Put: statePut})
	for _, id := range c.EventIDs {
		final = append(final, types.TransactWriteItem{Put: &types.Put{
			TableName: &s.processed, ConditionExpression: notExists,
			Item: item{attrPK: str(markerPK(gen, id)), "expires_at": expires},
		}})
	}
	fixed := len(final)
	newScopes := openScopes(c.After)
	for _, sc := range openScopes(c.Before) {
		if !slices.Contains(newScopes, sc) {
			final = append(final, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.models, Key: key(openPK(sc), c.After.TaskID)}})
		}
	}
	for _, sc := range newScopes {
		final = append(final, types.TransactWriteItem{Put: &types.Put{TableName: &s.models, Item: openItem(sc, c.After.OpenTask())}})
	}

	ups := updates(c.Effects)
	room := maxTransactItems - len(final)
	if len(ups) > room {
		// Parts of at most maxTransactItems-2 updates (meta check, part
		// record), all but what fits in the final transaction.
		head := ups[:len(ups)-room]
		for part, chunk := 0, 0; chunk < len(head); part, chunk = part+1, chunk+maxTransactItems-2 {
			items := []types.TransactWriteItem{s.metaCheck(gen), {Put: &types.Put{
				TableName: &s.processed, ConditionExpression: notExists,
				Item: item{attrPK: str(partPK(gen, c.After.TaskID, c.After.LastSeq, part)), "expires_at": expires},
			}}}
			for _, u := range head[chunk:min(chunk+maxTransactItems-2, len(head))] {
				items = append(items, u.write(&s.models))
			}
			err := s.transact(ctx, items)
			reasons := cancelReasons(err)
			switch {
			case err == nil:
			case len(reasons) > 1 && reasons[0] == reasonConditionalFailed:
				return errMetaChanged
			case len(reasons) > 1 && reasons[1] == reasonConditionalFailed:
				// This part was applied by an earlier attempt.
			default:
				return fmt.Errorf("projecting task %s (part %d): %w", c.After.TaskID, part, err)
			}
		}
		ups = ups[len(ups)-room:]
	}
	for _, u := range ups {
		final = append(final, u.write(&s.models))
	}
	err := s.transact(ctx, final)
	reasons := cancelReasons(err)
	switch {
	case err == nil:
		return nil
	case len(reasons) > 1 && reasons[0] == reasonConditionalFailed:
		return errMetaChanged
	case len(reasons) > 1 && reasons[1] == reasonConditionalFailed:
		return report.ErrStaleState
	case len(reasons) > fixed && slices.Contains(reasons[2:fixed], reasonConditionalFailed):
		return fmt.Errorf("an event of task %s is recorded as projected but its state is at %d: the read models need `taskd analytics rebuild`",
			c.After.TaskID, c.Before.LastSeq)
	}
	return fmt.Errorf("projecting task %s: %w", c.After.TaskID, err)
}
