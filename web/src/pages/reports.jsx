import { useEffect, useState } from 'preact/hooks';
import * as api from '../api/endpoints.js';
import { useApp } from '../ctx.js';
import { currentPeriod, fmtDue, fmtShort, shiftPeriod, weekStart } from '../dates.js';
import { isUnavailable } from '../errors.js';
import { Link, setQuery, useLocation } from '../router.jsx';
import { CompletionChart } from '../components/chart.jsx';
import { ErrorBanner, Loading, PriorityBadge, UserChip, UserPicker, displayName } from '../components/ui.jsx';

const KINDS = ['weekly', 'monthly'];

function usePeriod() {
  const { query } = useLocation();
  const kind = KINDS.includes(query.get('kind')) ? query.get('kind') : 'weekly';
  const raw = query.get('period') || '';
  const valid = kind === 'weekly' ? /^\d{4}-W\d{2}$/.test(raw) : /^\d{4}-\d{2}$/.test(raw);
  return { kind, period: valid ? raw : currentPeriod(kind), query };
}

function periodLabel(kind, key, locale) {
  if (kind === 'weekly') {
    const s = weekStart(key);
    if (!s) return key;
    const e = new Date(s.getFullYear(), s.getMonth(), s.getDate() + 6);
    return `${key} · ${fmtShort(s, locale)} – ${fmtShort(e, locale)}`;
  }
  const [y, m] = key.split('-').map(Number);
  return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long' }).format(new Date(y, m - 1, 1));
}

function PeriodBar({ kind, period, extra }) {
  const { t, locale } = useApp();
  const now = currentPeriod(kind);
  return (
    <div class="toolbar">
      <div class="segmented" role="group" aria-label={t('rep.title')}>
        {KINDS.map((k) => (
          <button key={k} type="button" class={k === kind ? 'on' : ''} aria-pressed={k === kind ? 'true' : 'false'} data-kind={k} onClick={() => setQuery({ kind: k === 'weekly' ? '' : k, period: '' })}>
            {k === 'weekly' ? t('rep.week') : t('rep.month')}
          </button>
        ))}
      </div>
      <div class="period-nav">
        <button type="button" class="btn btn-sm" aria-label={t('rep.prev')} onClick={() => setQuery({ period: shiftPeriod(kind, period, -1) })}>
          ‹
        </button>
        <span class="period-label" data-testid="period">
          {periodLabel(kind, period, locale)}
        </span>
        <button type="button" class="btn btn-sm" aria-label={t('rep.next')} onClick={() => setQuery({ period: shiftPeriod(kind, period, 1) })} disabled={period >= now}>
          ›
        </button>
        {period !== now && (
          <button type="button" class="btn btn-sm btn-ghost" onClick={() => setQuery({ period: '' })}>
            {t('rep.thisPeriod')}
          </button>
        )}
      </div>
      {extra}
    </div>
  );
}

const TREND = { weekly: 8, monthly: 6 };

/** The keys of the trend that ends with period: the last 8 weeks or 6 months. */
export function trendKeys(kind, period) {
  const n = TREND[kind];
  const keys = [];
  for (let i = n - 1; i >= 0; i--) keys.push(shiftPeriod(kind, period, -i));
  return keys;
}

/** Chart series from the reports of trendKeys (null for a period that failed to load). */
export function trendSeries(kind, keys, reports, locale) {
  const month = new Intl.DateTimeFormat(locale, { month: 'short' });
  const labels = keys.map((k) => {
    if (kind === 'monthly') {
      const [y, m] = k.split('-').map(Number);
      return month.format(new Date(y, m - 1, 1));
    }
    const start = weekStart(k);
    return start ? fmtShort(start, locale) : k;
  });
  const onTime = reports.map((r) => (r ? r.counters.completed_on_time : 0));
  const late = reports.map((r) => (r ? r.counters.completed_late : 0));
  return { labels, onTime, late };
}

const pct = (v) => (v == null ? '—' : `${Math.round(Number(v) * 100)}%`);
const hours = (t, v) => {
  if (v == null) return '—';
  const h = Number(v);
  if (h < 1) return t('rep.minutes', { m: Math.max(1, Math.round(h * 60)) });
  return t('rep.hours', { h: h < 10 ? Math.round(h * 10) / 10 : Math.round(h) });
};

function Stat({ id, label, value, delta, tone, sub, invert }) {
  const { t } = useApp();
  return (
    <div class={'stat' + (tone ? ' stat-' + tone : '')} data-testid={'stat-' + id}>
      <span class="stat-label">{label}</span>
      <span class="stat-value" data-testid={'stat-' + id + '-value'}>
        {value}
      </span>
      {sub && <span class="stat-sub">{sub}</span>}
      {delta != null && delta !== 0 && (
        <span class={'stat-delta ' + (delta > 0 ? 'up' : 'down') + (invert ? ' invert' : '')}>{t('rep.vsPrev', { d: (delta > 0 ? '+' : '') + delta })}</span>
      )}
    </div>
  );
}

export function Reports() {
  const { t, me, locale } = useApp();
  const { kind, period, query } = usePeriod();
  const userRef = query.get('user') || '';
  const [pickedUser, setPickedUser] = useState(null);
  const [rep, setRep] = useState(null);
  const [trend, setTrend] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  const manager = me.role === 'manager' || me.role === 'admin';

  useEffect(() => {
    let alive = true;
    setError(null);
    api.report(kind, period, userRef).then(
      (r) => {
        if (!alive) return;
        setRep(r);
        // The chart: this period and the ones before it, one report each.
        const keys = trendKeys(kind, period);
        Promise.all(keys.map((k) => (k === period ? r : api.report(kind, k, userRef).catch(() => null)))).then(
          (list) => alive && setTrend({ keys, list }),
        );
      },
      (e) => alive && (setError(e), setRep(null), setTrend(null)),
    );
    return () => {
      alive = false;
    };
  }, [kind, period, userRef, tick]);

  const series = trend ? trendSeries(kind, trend.keys, trend.list, locale) : null;
  const c = rep ? rep.counters : {};
  const d = rep ? rep.delta : {};
  const who = rep && rep.user && rep.user.email !== me.email ? displayName(rep.user) : t('rep.me');

  return (
    <section class="page reports-page" aria-labelledby="rep-title">
      <div class="page-head">
        <div>
          <h1 id="rep-title">
            {t('rep.title')} <span class="muted h1-sub">· {who}</span>
          </h1>
        </div>
        <div class="head-actions">
          <button type="button" class="btn btn-sm btn-ghost" onClick={() => setTick((n) => n + 1)} data-testid="report-reload">
            {t('reload')}
          </button>
        </div>
      </div>
      <PeriodBar
        kind={kind}
        period={period}
        extra={
          manager && (
            <div class="report-user">
              <label for="rep-user">{t('rep.user')}</label>
              <UserPicker
                id="rep-user"
                value={pickedUser}
                onChange={(u) => {
                  setPickedUser(u);
                  setQuery({ user: u ? api.userRef(u) : '' });
                }}
              />
            </div>
          )
        }
      />
      {error && (isUnavailable(error) ? <p class="banner banner-info">{t('err.unavailable')}</p> : <ErrorBanner error={error} onReload={() => setTick((n) => n + 1)} />)}
      {!rep && !error && <Loading />}
      {rep && (
        <>
          <div class="stats">
            <Stat id="completed" label={t('rep.completed')} value={c.completed} delta={d.completed} tone="main" />
            <Stat id="on-time" label={t('rep.completed_on_time')} value={c.completed_on_time} delta={d.completed_on_time} tone="good" />
            <Stat id="late" label={t('rep.completed_late')} value={c.completed_late} delta={d.completed_late} tone="warn" invert />
            <Stat id="overdue" label={t('rep.overdue')} value={c.overdue} delta={d.overdue} tone={c.overdue ? 'bad' : ''} invert />
            <Stat id="cycle" label={t('rep.cycle')} value={hours(t, rep.cycle.mean)} sub={rep.cycle.median != null ? t('rep.cycleMedian', { h: hours(t, rep.cycle.median) }) : ''} />
            <Stat id="created" label={t('rep.created')} value={c.created} delta={d.created} />
            <Stat id="started" label={t('rep.started')} value={c.started} delta={d.started} />
            <Stat id="rate" label={t('rep.onTimeRate')} value={pct(rep.onTimeRate)} />
          </div>
          <div class="panel">
            {series ? (
              <CompletionChart labels={series.labels} onTime={series.onTime} late={series.late} title={kind === 'weekly' ? t('rep.chartWeeks') : t('rep.chartMonths')} onTimeLabel={t('rep.onTime')} lateLabel={t('rep.late')} />
            ) : (
              <Loading />
            )}
          </div>
          <div class="panel">
            <h2 class="h3">{t('rep.tasks')}</h2>
            {rep.tasks.length === 0 ? (
              <p class="muted">{t('rep.noTasks')}</p>
            ) : (
              <div class="table-wrap">
                <table class="table">
                  <thead>
                    <tr>
                      <th scope="col">{t('task.name')}</th>
                      <th scope="col">{t('task.priority')}</th>
                      <th scope="col">{t('rep.countedAs')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rep.tasks.map((tk) => (
                      <tr key={tk.id}>
                        <td>{tk.id ? <Link href={'/tasks/' + encodeURIComponent(tk.id)}>{tk.name}</Link> : tk.name}</td>
                        <td>{tk.priority && <PriorityBadge priority={tk.priority} />}</td>
                        <td>
                          <div class="counted">
                            {(tk.countedAs.length ? tk.countedAs : tk.status ? ['status.' + tk.status] : []).map((c) => (
                              <span key={c} class={'tag tag-' + c}>
                                {c.startsWith('status.') ? t(c) : t('rep.' + c) !== 'rep.' + c ? t('rep.' + c) : c}
                              </span>
                            ))}
                            {tk.completedAt && <span class="muted small nowrap"> {fmtDue(tk.completedAt, locale)}</span>}
                          </div>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
        </>
      )}
    </section>
  );
}

/** Team table (managers, admins) or "people I supervise", with CSV download. */
export function TeamReport() {
  const { t, me, toast } = useApp();
  const { kind, period, query } = usePeriod();
  const manager = me.role === 'manager' || me.role === 'admin';
  const scope = query.get('scope') === 'mine' || !manager ? 'mine' : 'all';
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let alive = true;
    setError(null);
    api.teamReport(kind, period, scope === 'mine').then(
      (r) => alive && setData(r),
      (e) => alive && (setError(e), setData(null)),
    );
    return () => {
      alive = false;
    };
  }, [kind, period, scope, tick]);

  async function download() {
    try {
      let text = await api.teamReportCSV(kind, period, scope === 'mine');
      if (!text.startsWith('\ufeff')) text = '\ufeff' + text; // Excel reads UTF-8 (Korean names) with a BOM
      const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `taskd-team-${period}${scope === 'mine' ? '-supervised' : ''}.csv`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e);
    }
  }

  const cols = ['completed', 'completed_on_time', 'completed_late', 'overdue', 'created', 'started'];
  return (
    <section class="page" aria-labelledby="team-title">
      <div class="page-head">
        <h1 id="team-title">{t('team.title')}</h1>
        <div class="head-actions">
          <button type="button" class="btn" onClick={download} data-testid="csv">
            ⤓ {t('team.csv')}
          </button>
        </div>
      </div>
      <PeriodBar
        kind={kind}
        period={period}
        extra={
          manager && (
            <div class="segmented" role="group" aria-label={t('team.scope')}>
              {['all', 'mine'].map((s) => (
                <button key={s} type="button" class={s === scope ? 'on' : ''} aria-pressed={s === scope ? 'true' : 'false'} onClick={() => setQuery({ scope: s === 'all' ? '' : s })}>
                  {s === 'all' ? t('team.all') : t('team.mine')}
                </button>
              ))}
            </div>
          )
        }
      />
      {error && (isUnavailable(error) ? <p class="banner banner-info">{t('err.unavailable')}</p> : <ErrorBanner error={error} onReload={() => setTick((n) => n + 1)} />)}
      {!data && !error && <Loading />}
      {data && (
        <div class="panel table-wrap">
          {data.rows.length === 0 ? (
            <p class="muted">{t('team.empty')}</p>
          ) : (
            <table class="table" data-testid="team-table">
              <thead>
                <tr>
                  <th scope="col">{t('rep.user')}</th>
                  {cols.map((k) => (
                    <th key={k} scope="col" class="num">
                      {t('rep.' + k)}
                    </th>
                  ))}
                  <th scope="col" class="num">
                    {t('rep.cycle')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.rows.map((r, i) => (
                  <tr key={(r.user && (r.user.id || r.user.email)) || i}>
                    <th scope="row">
                      {r.user ? (
                        <Link href={`/reports?${new URLSearchParams({ kind: kind === 'weekly' ? '' : kind, period, user: api.userRef(r.user) })}`.replace('kind=&', '')}>
                          <UserChip user={r.user} />
                        </Link>
                      ) : (
                        '—'
                      )}
                    </th>
                    {cols.map((k) => (
                      <td key={k} class="num">
                        {r.counters[k]}
                      </td>
                    ))}
                    <td class="num">{hours(t, r.cycle.mean)}</td>
                  </tr>
                ))}
              </tbody>
              {data.totals && (
                <tfoot>
                  <tr>
                    <th scope="row">{t('team.total')}</th>
                    {cols.map((k) => (
                      <td key={k} class="num">
                        {data.totals.counters[k]}
                      </td>
                    ))}
                    <td class="num">{hours(t, data.totals.cycle.mean)}</td>
                  </tr>
                </tfoot>
              )}
            </table>
          )}
        </div>
      )}
    </section>
  );
}
