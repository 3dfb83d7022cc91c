import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api/endpoints.js';
import { useApp } from '../ctx.js';
import { daysLeft, fmtDue, isOverdue } from '../dates.js';
import { Link, navigate, setQuery, useLocation } from '../router.jsx';
import { ErrorBanner, Loading, PriorityBadge, UserChip } from '../components/ui.jsx';

const VIEWS = ['all', 'pic', 'supervisor', 'creator'];
const SORTS = ['-created', 'priority', 'deadline', '-updated'];

/** The buttons a card offers in each column: [target status, label key, arrow]. */
const MOVES = {
  waiting: [
    ['in_progress', 'board.start', '→'],
    ['done', 'board.complete', '✓'],
  ],
  in_progress: [
    ['waiting', 'board.backToWaiting', '←'],
    ['done', 'board.complete', '✓'],
  ],
  done: [['in_progress', 'board.reopen', '↺']],
};

export function Board() {
  const { t, toast } = useApp();
  const { query } = useLocation();
  const view = VIEWS.includes(query.get('view')) ? query.get('view') : 'all';
  const priority = query.get('priority') || '';
  const status = query.get('status') || '';
  const sort = SORTS.includes(query.get('sort')) ? query.get('sort') : '-created';
  const q = query.get('q') || '';

  const [tasks, setTasks] = useState(null);
  const [error, setError] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [busyId, setBusyId] = useState(null);
  const [dragId, setDragId] = useState(null);
  const [over, setOver] = useState(null);
  const [tick, setTick] = useState(0);
  const [search, setSearch] = useState(q);
  const searchRef = useRef(null);
  const seq = useRef(0);

  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    const n = ++seq.current;
    api
      .listTasks({ view, priority, status, sort, q: q.trim() })
      .then((list) => {
        if (n !== seq.current) return;
        setTasks(list);
        setLoadError(null);
      })
      .catch((err) => n === seq.current && setLoadError(err));
  }, [view, priority, status, sort, q, tick]);

  // Debounced search → URL (?q=), which reloads.
  useEffect(() => {
    if (search === q) return undefined;
    const id = setTimeout(() => setQuery({ q: search }), 300);
    return () => clearTimeout(id);
  }, [search]);
  // …and URL → box when the URL changes otherwise (back button).
  useEffect(() => {
    if (document.activeElement !== searchRef.current) setSearch(q);
  }, [q]);

  // Fresh data when the tab comes back; "/" focuses the search, "n" opens a new task.
  useEffect(() => {
    const onVis = () => document.visibilityState === 'visible' && reload();
    const onKey = (e) => {
      const tag = (e.target && e.target.tagName) || '';
      if (/INPUT|TEXTAREA|SELECT/.test(tag) || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === '/') {
        e.preventDefault();
        searchRef.current && searchRef.current.focus();
      } else if (e.key === 'n') {
        e.preventDefault();
        navigate('/tasks/new');
      }
    };
    document.addEventListener('visibilitychange', onVis);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('visibilitychange', onVis);
      document.removeEventListener('keydown', onKey);
    };
  }, [reload]);

  async function move(task, to) {
    if (!task || task.status === to || busyId) return;
    setError(null);
    setBusyId(task.id);
    const before = tasks;
    setTasks((ts) => ts.map((x) => (x.id === task.id ? { ...x, status: to } : x)));
    try {
      const { etag } = await api.moveTask(task, to);
      toast(t('board.moved', { name: task.name, status: t('status.' + to) }));
      const version = api.versionOf(etag);
      if (version != null) {
        // The answer's ETag is the new version: the card can move again at once.
        setTasks((ts) => ts.map((x) => (x.id === task.id ? { ...x, status: to, version, etag } : x)));
        reload();
      } else {
        // No ETag: hold the card until the list (with its new version) is back.
        const list = await api.listTasks({ view, priority, status, sort, q: q.trim() });
        setTasks(list);
      }
    } catch (err) {
      setTasks(before);
      setError(err);
    } finally {
      setBusyId(null);
    }
  }

  const columns = status ? [status] : api.STATUSES;
  const byStatus = (s) => (tasks || []).filter((x) => x.status === s);
  const overdue = (tasks || []).filter((x) => isOverdue(x)).length;

  return (
    <section class="page board-page" aria-labelledby="board-title">
      <div class="page-head">
        <div>
          <h1 id="board-title">{t('board.title')}</h1>
          {tasks && (
            <p class="muted page-sub" data-testid="board-summary">
              {t('board.shown', { n: tasks.length })}
              {overdue > 0 && (
                <>
                  {' · '}
                  <span class="text-danger">
                    {t('board.overdue')} {overdue}
                  </span>
                </>
              )}
            </p>
          )}
        </div>
        <Link href="/tasks/new" class="btn btn-primary" data-testid="new-task" aria-keyshortcuts="n">
          + {t('board.new')}
        </Link>
      </div>

      <div class="toolbar">
        <div class="segmented" role="group" aria-label={t('board.view')}>
          {VIEWS.map((v) => (
            <button
              key={v}
              type="button"
              class={v === view ? 'on' : ''}
              aria-pressed={v === view ? 'true' : 'false'}
              data-view={v}
              onClick={() => setQuery({ view: v === 'all' ? '' : v })}
            >
              {t('view.' + v)}
            </button>
          ))}
        </div>
        <div class="filters">
          <label class="sr-only" for="board-search">
            {t('board.search')}
          </label>
          <input
            ref={searchRef}
            id="board-search"
            class="search"
            type="search"
            placeholder={t('board.search') + '  /'}
            aria-keyshortcuts="/"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
          <Select id="f-priority" label={t('board.priority')} value={priority} onChange={(v) => setQuery({ priority: v })}>
            <option value="">{t('board.priority')}: {t('board.any')}</option>
            {api.PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {t('priority.' + p)}
              </option>
            ))}
          </Select>
          <Select id="f-status" label={t('board.status')} value={status} onChange={(v) => setQuery({ status: v })}>
            <option value="">{t('board.status')}: {t('board.any')}</option>
            {api.STATUSES.map((s) => (
              <option key={s} value={s}>
                {t('status.' + s)}
              </option>
            ))}
          </Select>
          <Select id="f-sort" label={t('board.sort')} value={sort} onChange={(v) => setQuery({ sort: v === '-created' ? '' : v })}>
            {SORTS.map((s) => (
              <option key={s} value={s}>
                {t('board.sort')}: {t('sort.' + s)}
              </option>
            ))}
          </Select>
        </div>
      </div>

      <ErrorBanner error={error} onReload={() => (setError(null), reload())} onDismiss={() => setError(null)} />
      <ErrorBanner error={loadError} onReload={reload} />

      {!tasks && !loadError && <Loading />}
      {tasks && (
        <div class={'columns cols-' + columns.length}>
          {columns.map((s) => {
            const list = byStatus(s);
            return (
              <section
                key={s}
                class={'column column-' + s + (over === s ? ' drop-over' : '')}
                aria-labelledby={'col-' + s}
                data-column={s}
                onDragOver={(e) => {
                  if (!dragId) return;
                  e.preventDefault();
                  e.dataTransfer.dropEffect = 'move';
                  if (over !== s) setOver(s);
                }}
                onDragLeave={(e) => {
                  if (!e.currentTarget.contains(e.relatedTarget)) setOver(null);
                }}
                onDrop={(e) => {
                  e.preventDefault();
                  const id = e.dataTransfer.getData('text/plain') || dragId;
                  setOver(null);
                  setDragId(null);
                  move((tasks || []).find((x) => x.id === id), s);
                }}
              >
                <h2 class="column-head" id={'col-' + s}>
                  <span class={'dot dot-' + s} aria-hidden="true" />
                  {t('status.' + s)}
                  <span class="count" aria-label={t('board.count', { n: list.length })}>
                    {list.length}
                  </span>
                </h2>
                <ul class="cards">
                  {list.map((task) => (
                    <Card
                      key={task.id}
                      task={task}
                      busy={busyId === task.id}
                      dragging={dragId === task.id}
                      onMove={(to) => move(task, to)}
                      onDragStart={(e) => {
                        e.dataTransfer.setData('text/plain', task.id);
                        e.dataTransfer.effectAllowed = 'move';
                        setDragId(task.id);
                      }}
                      onDragEnd={() => {
                        setDragId(null);
                        setOver(null);
                      }}
                    />
                  ))}
                  {list.length === 0 && <li class="column-empty">{dragId ? t('board.dropHere') : t('board.empty')}</li>}
                </ul>
              </section>
            );
          })}
        </div>
      )}
      {tasks && tasks.length === 0 && view === 'all' && !q && !priority && !status && <p class="muted center">{t('board.emptyAll')}</p>}
    </section>
  );
}

function DueTag({ days }) {
  const { t } = useApp();
  if (days == null || days > 14) return null;
  const text = days > 0 ? t('due.left', { n: days }) : days === 0 ? t('due.today') : t('due.late', { n: -days });
  return <span class={'dday' + (days < 0 ? ' dday-late' : days <= 1 ? ' dday-soon' : '')}>{text}</span>;
}

function Select({ id, label, value, onChange, children }) {
  return (
    <>
      <label class="sr-only" for={id}>
        {label}
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {children}
      </select>
    </>
  );
}

function Card({ task, busy, dragging, onMove, onDragStart, onDragEnd }) {
  const { t, locale } = useApp();
  const late = isOverdue(task);
  return (
    <li
      class={'card prio-edge-' + task.priority + (busy ? ' busy' : '') + (dragging ? ' dragging' : '')}
      draggable={!busy}
      onDragStart={onDragStart}
      onDragEnd={onDragEnd}
      data-task-id={task.id}
      data-testid="card"
      aria-busy={busy ? 'true' : undefined}
    >
      <div class="card-top">
        <PriorityBadge priority={task.priority} />
        {task.deadline && (
          <span class={'due' + (late ? ' due-late' : '')} title={late ? t('board.overdue') : ''}>
            {late && <span class="sr-only">{t('board.overdue')}: </span>}
            {t('board.due', { date: fmtDue(task.deadline, locale) })}
            {task.status !== 'done' && <DueTag days={daysLeft(task.deadline)} />}
          </span>
        )}
      </div>
      <Link href={'/tasks/' + encodeURIComponent(task.id)} class="card-title">
        {task.name}
      </Link>
      <dl class="card-people">
        <div>
          <dt>{t('board.pic')}</dt>
          <dd>
            <UserChip user={task.pic} />
          </dd>
        </div>
        <div>
          <dt>{t('board.supervisor')}</dt>
          <dd>
            <UserChip user={task.supervisor} empty={t('none')} />
          </dd>
        </div>
      </dl>
      <div class="card-actions">
        {(MOVES[task.status] || []).map(([to, key, arrow]) => (
          <button
            key={to}
            type="button"
            class="btn btn-xs"
            disabled={busy}
            data-move={to}
            aria-label={`${t(key)}: ${task.name} → ${t('status.' + to)}`}
            title={t('board.moveTo', { status: t('status.' + to) })}
            onClick={() => onMove(to)}
          >
            <span aria-hidden="true">{arrow}</span> {t(key)}
          </button>
        ))}
      </div>
    </li>
  );
}
