package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/taskd/taskd/modules/analytics/domain/report"
	"github.com/taskd/taskd/modules/kernel/decorator"
)

// CheckTimeZone compares the report time zone with the one the read models
// were projected in. Fresh read models take the configured one. A
// different one is ErrTimeZoneChanged: the weeks and months already
// counted are those of the old zone until `taskd analytics rebuild`.
type CheckTimeZone struct{}

func (CheckTimeZone) LogAttrs() []slog.Attr { return nil }

// ErrTimeZoneChanged: TASKD_REPORT_TZ differs from the read models' zone.
var ErrTimeZoneChanged = errors.New("the report time zone changed")

type CheckTimeZoneHandler decorator.CommandHandler[CheckTimeZone]

type checkTimeZoneHandler struct {
	store report.RebuildStore
	tz    string
}

func NewCheckTimeZoneHandler(store report.RebuildStore, p *Projection, logger *slog.Logger, m decorator.Metrics) CheckTimeZoneHandler {
	return decorator.ApplyCommandDecorators[CheckTimeZone](checkTimeZoneHandler{store: store, tz: p.Projector.Loc.String()}, logger, m)
}

func (h checkTimeZoneHandler) Handle(ctx context.Context, _ CheckTimeZone) error {
	meta, err := h.store.Meta(ctx)
	if err != nil {
		return err
	}
	switch meta.TimeZone {
	case h.tz:
		return nil
	case "":
		return h.store.SetTimeZone(ctx, h.tz)
	}
	return fmt.Errorf("%w: the read models count weeks and months in %s, TASKD_REPORT_TZ is %s: run `taskd analytics rebuild`",
		ErrTimeZoneChanged, meta.TimeZone, h.tz)
}
