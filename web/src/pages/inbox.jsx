import { useCallback, useEffect, useState } from 'preact/hooks';
import * as api from '../api/endpoints.js';
import { POLL_MS } from '../config.js';
import { useApp } from '../ctx.js';
import { fmtDate, fmtRelative } from '../dates.js';
import { Link } from '../router.jsx';
import { displayName, ErrorBanner, Loading } from '../components/ui.jsx';

/** The in-app inbox (issue 6): newest first, unread marked, refreshed by polling. */
export function Inbox() {
  const { t, locale, refreshUnread } = useApp();
  const [items, setItems] = useState(null);
  const [next, setNext] = useState('');
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [error, setError] = useState(null);

  const load = useCallback(async () => {
    try {
      const r = await api.notifications({ unread: unreadOnly });
      setItems(r.items);
      setNext(r.next);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [unreadOnly]);

  useEffect(() => {
    load();
    const iv = setInterval(() => document.visibilityState === 'visible' && load(), POLL_MS);
    return () => clearInterval(iv);
  }, [load]);

  async function more() {
    try {
      const r = await api.notifications({ unread: unreadOnly, cursor: next });
      setItems((xs) => [...xs, ...r.items]);
      setNext(r.next);
    } catch (err) {
      setError(err);
    }
  }

  async function read(n) {
    if (n.read) return;
    setItems((xs) => xs.map((x) => (x.id === n.id ? { ...x, read: true } : x)));
    try {
      await api.markRead(n.id);
    } catch (err) {
      setError(err);
    }
    refreshUnread();
  }

  async function readAll() {
    try {
      await api.markAllRead();
      setItems((xs) => xs.map((x) => ({ ...x, read: true })));
    } catch (err) {
      setError(err);
    }
    refreshUnread();
  }

  const unread = (items || []).filter((x) => !x.read).length;
  return (
    <section class="page narrow" aria-labelledby="inbox-title">
      <div class="page-head">
        <h1 id="inbox-title">{t('inbox.title')}</h1>
        <div class="head-actions">
          <label class="check">
            <input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.currentTarget.checked)} /> {t('inbox.unreadOnly')}
          </label>
          <button type="button" class="btn" onClick={readAll} disabled={!unread} data-testid="read-all">
            {t('inbox.markAll')}
          </button>
        </div>
      </div>
      <ErrorBanner error={error} onReload={load} />
      {!items && !error && <Loading />}
      {items && items.length === 0 && <p class="empty muted">{t('inbox.empty')}</p>}
      {items && items.length > 0 && (
        <ul class="notes" data-testid="notifications">
          {items.map((n) => (
            <li key={n.id} class={'note' + (n.read ? '' : ' unread')} data-testid="notification">
              <span class="note-dot" aria-hidden="true" />
              <div class="note-body">
                {!n.read && <span class="sr-only">{t('inbox.unread')}: </span>}
                {n.title && <strong class="note-title">{n.title}</strong>}
                <p class="note-text">
                  {n.text || n.taskName}
                  {n.actor && <span class="muted"> — {displayName(n.actor)}</span>}
                </p>
                <p class="note-meta muted">
                  <time dateTime={n.at} title={fmtDate(n.at, locale, true)}>
                    {fmtRelative(n.at, locale)}
                  </time>
                  {n.taskId && (
                    <>
                      {' · '}
                      <Link href={'/tasks/' + encodeURIComponent(n.taskId)} onClick={() => read(n)}>
                        {n.taskName || t('inbox.open')}
                      </Link>
                    </>
                  )}
                </p>
              </div>
              {!n.read && (
                <button type="button" class="btn btn-xs" onClick={() => read(n)}>
                  {t('inbox.markRead')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {next && (
        <p class="center">
          <button type="button" class="btn" onClick={more}>
            {t('more')}
          </button>
        </p>
      )}
    </section>
  );
}
