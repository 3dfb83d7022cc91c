package query

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/taskd/taskd/modules/analytics/contracts"
	"github.com/taskd/taskd/modules/analytics/domain/eventlog"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// Activity lists the events of the log in time order: one user's (what
// they did) or, for managers and admins, everyone's. Members may read only
// their own.
type Activity struct {
	Actor actor.Actor
	// User is "" (everyone: managers and admins), me, an e-mail or an id.
	User string
	// From (inclusive) and To (exclusive); zero To is now, zero From is
	// seven days before To. At most MaxActivityRange apart.
	From, To time.Time
	Cursor   string
	// Limit is the page size, 1–1000 (0: 200).
	Limit int
}

func (q Activity) LogAttrs() []slog.Attr { return []slog.Attr{slog.Bool("by_user", q.User != "")} }

type ActivityHandler decorator.QueryHandler[Activity, contracts.Activity]

type activityHandler struct {
	log   HistoryReadModel
	users UserDirectory
	cfg   Config
}

func NewActivityHandler(log HistoryReadModel, users UserDirectory, cfg Config, logger *slog.Logger, m decorator.Metrics) ActivityHandler {
	return decorator.ApplyQueryDecorators[Activity, contracts.Activity](activityHandler{log: log, users: users, cfg: cfg}, logger, m)
}

// MaxActivityRange bounds From–To.
const MaxActivityRange = 366 * 24 * time.Hour

func (h activityHandler) Handle(ctx context.Context, q Activity) (contracts.Activity, error) {
	limit := q.Limit
	if limit == 0 {
		limit = DefaultHistoryLimit
	}
	if limit < 1 || limit > eventlog.MaxQueryLimit {
		return contracts.Activity{}, ErrInvalidLimit
	}
	to := q.To
	if to.IsZero() {
		to = h.cfg.Clock()
	}
	from := q.From
	if from.IsZero() {
		from = to.Add(-7 * 24 * time.Hour)
	}
	if !from.Before(to) || to.Sub(from) > MaxActivityRange {
		return contracts.Activity{}, ErrInvalidRange
	}
	lq := eventlog.Query{From: from, To: to, Limit: limit + 1}
	if q.User != "" {
		u, err := reportUser(ctx, h.users, q.Actor, q.User)
		if err != nil {
			return contracts.Activity{}, err
		}
		lq.ActorID = u.ID
	} else if !q.Actor.IsManager() {
		return contracts.Activity{}, ErrReportForbidden
	}
	if q.Cursor != "" {
		pos, err := decodeCursor(q.Cursor)
		if err != nil {
			return contracts.Activity{}, err
		}
		lq.After = &pos
	}
	entries, err := h.log.Events(ctx, lq)
	if err != nil {
		return contracts.Activity{}, err
	}
	out := contracts.Activity{Entries: make([]contracts.ActivityEntry, 0, min(len(entries), limit))}
	if len(entries) > limit {
		entries = entries[:limit]
		out.NextCursor = encodeCursor(eventlog.PositionOf(entries[limit-1]))
	}
	for _, e := range entries {
		out.Entries = append(out.Entries, contracts.ActivityEntry{
			EventID: e.EventID, Event: e.Type, At: e.OccurredAt, ActorID: e.ActorID,
			AggregateType: e.AggregateType, AggregateID: e.AggregateID, Sequence: e.Sequence, Changes: changesOf(e),
		})
	}
	return out, nil
}

func encodeCursor(p eventlog.Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.OccurredAt.UnixMicro(), 10) + "|" + p.EventID))
}

func decodeCursor(s string) (eventlog.Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 200 {
		return eventlog.Position{}, ErrInvalidCursor
	}
	us, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || id == "" {
		return eventlog.Position{}, ErrInvalidCursor
	}
	return eventlog.Position{OccurredAt: time.UnixMicro(n).UTC(), EventID: id}, nil
}
