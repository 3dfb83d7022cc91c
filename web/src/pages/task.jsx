import { useCallback, useEffect, useState } from 'preact/hooks';
import * as api from '../api/endpoints.js';
import { useApp } from '../ctx.js';
import { fmtDate, fmtRelative, isOverdue } from '../dates.js';
import { isUnavailable } from '../errors.js';
import { Link, navigate } from '../router.jsx';
import { ConfirmDialog, displayName, ErrorBanner, Loading, PriorityBadge, StatusPill, UserChip } from '../components/ui.jsx';

const NEXT = {
  waiting: [
    ['in_progress', 'board.start'],
    ['done', 'board.complete'],
  ],
  in_progress: [
    ['waiting', 'board.backToWaiting'],
    ['done', 'board.complete'],
  ],
  done: [['in_progress', 'board.reopen']],
};

export function TaskPage({ params }) {
  const { t, locale, toast } = useApp();
  const [task, setTask] = useState(null);
  const [loadErr, setLoadErr] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [histTick, setHistTick] = useState(0);

  const load = useCallback(async () => {
    try {
      setTask(await api.getTask(params.id));
      setLoadErr(null);
    } catch (err) {
      setLoadErr(err);
    }
    setHistTick((n) => n + 1);
  }, [params.id]);

  useEffect(() => {
    load();
  }, [load]);

  async function move(to) {
    setBusy(true);
    setError(null);
    try {
      await api.moveTask(task, to);
      toast(t('board.moved', { name: task.name, status: t('status.' + to) }));
      await load();
      // The history is a projection of events: give it a moment, then look again.
      setTimeout(() => setHistTick((n) => n + 1), 1200);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setConfirm(false);
    setBusy(true);
    setError(null);
    try {
      await api.deleteTask(task);
      toast(t('task.deleted.ok', { name: task.name }));
      navigate('/', { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  if (loadErr && !task) {
    return (
      <section class="page narrow">
        <h1>{loadErr.notFound ? t('task.notFound') : t('task.title')}</h1>
        <ErrorBanner error={loadErr.notFound ? null : loadErr} onReload={load} />
        <p>
          <Link href="/">← {t('nav.board')}</Link>
        </p>
      </section>
    );
  }
  if (!task) return <Loading />;
  const late = isOverdue(task);

  return (
    <section class="page task-page" aria-labelledby="task-title">
      <p class="crumbs">
        <Link href="/">← {t('nav.board')}</Link>
      </p>
      <div class="page-head">
        <div>
          <h1 id="task-title">{task.name}</h1>
          <p class="task-meta">
            <StatusPill status={task.status} /> <PriorityBadge priority={task.priority} />
            {task.deadline && (
              <span class={'due' + (late ? ' due-late' : '')}>
                {t('board.due', { date: fmtDate(task.deadline, locale) })}
                {late && ' · ' + t('board.overdue')}
              </span>
            )}
          </p>
        </div>
        <div class="head-actions">
          {(NEXT[task.status] || []).map(([to, key]) => (
            <button key={to} type="button" class="btn" disabled={busy} data-move={to} onClick={() => move(to)}>
              {t(key)}
            </button>
          ))}
          <Link href={`/tasks/${encodeURIComponent(task.id)}/edit`} class="btn" data-testid="edit-task">
            {t('edit')}
          </Link>
          <button type="button" class="btn btn-danger-ghost" disabled={busy} onClick={() => setConfirm(true)} data-testid="delete-task">
            {t('delete')}
          </button>
        </div>
      </div>

      <ErrorBanner error={error} onReload={() => (setError(null), load())} onDismiss={() => setError(null)} />

      <div class="task-grid">
        <div class="panel">
          <dl class="facts">
            <dt>{t('task.pic')}</dt>
            <dd>
              <UserChip user={task.pic} />
            </dd>
            <dt>{t('task.supervisor')}</dt>
            <dd>
              <UserChip user={task.supervisor} empty={t('none')} />
            </dd>
            <dt>{t('task.creator')}</dt>
            <dd>
              <UserChip user={task.creator} empty={t('none')} />
            </dd>
            <dt>{t('task.created')}</dt>
            <dd>{fmtDate(task.createdAt, locale, true)}</dd>
            <dt>{t('task.updated')}</dt>
            <dd>{fmtDate(task.updatedAt, locale, true)}</dd>
            {task.completedAt && (
              <>
                <dt>{t('task.completed')}</dt>
                <dd>{fmtDate(task.completedAt, locale, true)}</dd>
              </>
            )}
          </dl>
          <h2 class="h3">{t('task.contents')}</h2>
          {task.contents ? <div class="contents">{task.contents}</div> : <p class="muted">{t('task.noContents')}</p>}
        </div>
        <History taskId={task.id} tick={histTick} onRefresh={() => setHistTick((n) => n + 1)} />
      </div>

      <ConfirmDialog
        open={confirm}
        title={t('delete')}
        body={t('task.confirmDelete', { name: task.name })}
        confirmLabel={t('delete')}
        danger
        onConfirm={remove}
        onCancel={() => setConfirm(false)}
      />
    </section>
  );
}

function History({ taskId, tick, onRefresh }) {
  const { t, locale } = useApp();
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let alive = true;
    api
      .taskHistory(taskId)
      .then((h) => {
        if (!alive) return;
        setItems(h);
        setError(null);
      })
      .catch((err) => alive && setError(err));
    return () => {
      alive = false;
    };
  }, [taskId, tick]);

  return (
    <section class="panel history" aria-labelledby="hist-title">
      <div class="panel-head">
        <h2 id="hist-title" class="h3">
          {t('task.history')}
        </h2>
        <button type="button" class="btn btn-xs btn-ghost" onClick={onRefresh}>
          {t('reload')}
        </button>
      </div>
      {error && <p class="muted">{isUnavailable(error) ? t('err.unavailable') : t('task.historyUnavailable')}</p>}
      {!error && !items && <Loading />}
      {items && items.length === 0 && <p class="muted">{t('task.historyEmpty')}</p>}
      {items && items.length > 0 && (
        <ol class="timeline" data-testid="history">
          {items.map((e) => (
            <li key={e.seq} class="timeline-item" data-event={e.type}>
              <div class="timeline-head">
                <strong>{e.actor ? displayName(e.actor) : t('hist.system')}</strong>{' '}
                <span>{t('hist.' + e.type) !== 'hist.' + e.type ? t('hist.' + e.type) : e.type}</span>
                <time class="muted" dateTime={e.at} title={fmtDate(e.at, locale, true)}>
                  {fmtRelative(e.at, locale)}
                </time>
              </div>
              {e.changes.length > 0 && (
                <ul class="changes">
                  {e.changes.map((c, i) => (
                    <li key={i} data-field={c.field}>
                      <span class="change-field">{fieldLabel(t, c.field)}</span>{' '}
                      {c.old != null && c.old !== '' && (
                        <>
                          <span class="old">{fmtValue(t, locale, c.field, c.old)}</span> →{' '}
                        </>
                      )}
                      <span class="new">{c.new == null || c.new === '' ? t('none') : fmtValue(t, locale, c.field, c.new)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function fieldLabel(t, f) {
  const k = 'task.' + f;
  const s = t(k);
  return s === k ? f : s;
}

function fmtValue(t, locale, field, v) {
  if (v && typeof v === 'object') return displayName(api.normUser(v));
  const s = String(v);
  if (field === 'pic' || field === 'supervisor' || field === 'creator') {
    const u = api.cachedUser(s);
    if (u && u.name) return s.includes('@') ? `${u.name} (${s})` : u.name;
    return s.includes('@') ? s : s.slice(0, 8) + '…';
  }
  if (field === 'status') return t('status.' + api.normStatus(s));
  if (field === 'priority') return t('priority.' + s.toLowerCase());
  if (field === 'deadline') return fmtDate(s, locale);
  if (field === 'contents' && s.length > 80) return s.slice(0, 80) + '…';
  return s;
}
