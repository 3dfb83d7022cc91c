import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import * as api from './api/endpoints.js';
import * as session from './api/session.js';
import { POLL_MS } from './config.js';
import { AppCtx, useApp } from './ctx.js';
import { initialLang, intlLocale, rememberLang, translator } from './i18n.js';
import { Link, match, navigate, safeNext, useLocation } from './router.jsx';
import { SignIn, SignUp } from './pages/auth.jsx';
import { Board } from './pages/board.jsx';
import { TaskPage } from './pages/task.jsx';
import { TaskEditor } from './pages/editor.jsx';
import { Inbox } from './pages/inbox.jsx';
import { Profile } from './pages/profile.jsx';
import { Avatar, Toasts } from './components/ui.jsx';

// Reports carry the charting library: loaded on first visit, not on first load.
const loadReports = () => import('./pages/reports.jsx');
const Reports = lazyPage(loadReports, 'Reports');
const TeamReport = lazyPage(loadReports, 'TeamReport');

function lazyPage(load, name) {
  let Comp = null;
  let pending = null;
  return function LazyPage(props) {
    const { t } = useApp();
    const [failed, setFailed] = useState(false);
    const [, setReady] = useState(false);
    useEffect(() => {
      if (Comp) return;
      if (!pending) pending = load().then((m) => (Comp = m[name]));
      pending.then(
        () => setReady(true),
        () => {
          pending = null;
          setFailed(true);
        },
      );
    }, []);
    if (Comp) return <Comp {...props} />;
    if (failed)
      return (
        <div class="page" role="alert">
          {t('err.network')}{' '}
          <button type="button" class="btn btn-sm" onClick={() => location.reload()}>
            {t('reload')}
          </button>
        </div>
      );
    return (
      <div class="loading" role="status">
        {t('loading')}
      </div>
    );
  };
}

const ROUTES = [
  ['/', Board],
  ['/tasks/new', TaskEditor],
  ['/tasks/:id/edit', TaskEditor],
  ['/tasks/:id', TaskPage],
  ['/inbox', Inbox],
  ['/reports', Reports],
  ['/reports/team', TeamReport],
  ['/profile', Profile],
];
const PUBLIC = [
  ['/sign-in', SignIn],
  ['/sign-up', SignUp],
];

export function App() {
  const [lang, setLangState] = useState(initialLang);
  const [me, setMe] = useState(null);
  const [booting, setBooting] = useState(true);
  const [unread, setUnread] = useState(null);
  const [toasts, setToasts] = useState([]);
  const loc = useLocation();
  const t = useMemo(() => translator(lang), [lang]);
  const locale = intlLocale(lang);

  const setLang = useCallback((l) => {
    setLangState(l);
    rememberLang(l);
  }, []);

  const toast = useCallback((text, kind = 'ok') => {
    const id = Math.random().toString(36).slice(2);
    setToasts((ts) => [...ts.slice(-2), { id, text, kind }]);
    setTimeout(() => setToasts((ts) => ts.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 4000);
  }, []);

  // Start: resume the session from the stored refresh token.
  useEffect(() => {
    let alive = true;
    (async () => {
      if (session.hasSession()) {
        try {
          const u = await api.me();
          if (alive) {
            setMe(u);
            if (u.locale && !localStorage.getItem('taskd.lang')) setLangState(u.locale);
          }
        } catch {
          /* expired or offline: the sign-in page says so */
        }
      }
      if (alive) setBooting(false);
    })();
    return () => {
      alive = false;
    };
  }, []);

  // The session ended elsewhere (refresh refused, other tab signed out).
  useEffect(
    () =>
      session.onSessionEvent((kind) => {
        setMe(null);
        setUnread(null);
        const next = location.pathname + location.search;
        const notice = kind === 'expired' ? 'expired' : 'signedout';
        const qs = new URLSearchParams({ notice });
        if (next !== '/' && !next.startsWith('/sign-')) qs.set('next', next);
        navigate('/sign-in?' + qs.toString(), { replace: true });
      }),
    [],
  );

  // Unread count: poll while the page is visible; refresh on focus.
  const pollFailed = useRef(0);
  const refreshUnread = useCallback(async () => {
    if (!session.hasSession()) return;
    try {
      setUnread(await api.unreadCount());
      pollFailed.current = 0;
    } catch {
      pollFailed.current++;
    }
  }, []);
  useEffect(() => {
    if (!me) return undefined;
    refreshUnread();
    const tick = () => {
      if (document.visibilityState === 'visible' && pollFailed.current < 5) refreshUnread();
    };
    const iv = setInterval(tick, POLL_MS);
    const onVis = () => document.visibilityState === 'visible' && refreshUnread();
    document.addEventListener('visibilitychange', onVis);
    return () => {
      clearInterval(iv);
      document.removeEventListener('visibilitychange', onVis);
    };
  }, [me, refreshUnread]);

  const signOut = useCallback(async () => {
    await api.signOut();
    setMe(null);
    setUnread(null);
    navigate('/sign-in?notice=signedout', { replace: true });
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const ctx = { me, setMe, lang, setLang, t, locale, unread, refreshUnread, toast, signOut };

  let page;
  if (booting) {
    page = (
      <div class="boot" role="status">
        {t('loading')}
      </div>
    );
  } else {
    const path = loc.path;
    const pub = PUBLIC.find(([p]) => match(p, path));
    if (!me) {
      if (pub) page = h(pub[1], {});
      else {
        const next = path + location.search;
        queueMicrotask(() =>
          navigate('/sign-in' + (next !== '/' ? '?next=' + encodeURIComponent(next) : ''), { replace: true }),
        );
        page = null;
      }
    } else if (pub) {
      queueMicrotask(() => navigate(safeNext(loc.query.get('next')), { replace: true }));
      page = null;
    } else {
      let found = null;
      for (const [p, C] of ROUTES) {
        const params = match(p, path);
        if (params) {
          found = h(C, { params, key: p + (params.id || '') });
          break;
        }
      }
      page = (
        <Shell path={path}>
          {found || <NotFound />}
        </Shell>
      );
    }
  }

  return (
    <AppCtx.Provider value={ctx}>
      {page}
      <Toasts toasts={toasts} />
    </AppCtx.Provider>
  );
}

function h(C, props) {
  return <C {...props} />;
}

function Shell({ path, children }) {
  const { t, me, unread, lang, setLang, signOut } = useApp();
  const [menuOpen, setMenuOpen] = useState(false);
  const mainRef = useRef(null);

  // After a navigation, move focus to the page heading (keyboard and screen-reader users).
  useEffect(() => {
    setMenuOpen(false);
    const id = setTimeout(() => {
      const h1 = mainRef.current && mainRef.current.querySelector('h1');
      if (h1 && document.activeElement === document.body) {
        h1.setAttribute('tabindex', '-1');
        h1.focus({ preventScroll: true });
      }
    }, 0);
    return () => clearTimeout(id);
  }, [path]);

  const nav = [
    ['/', t('nav.board'), path === '/' || path.startsWith('/tasks')],
    ['/inbox', t('nav.inbox'), path === '/inbox'],
    ['/reports', t('nav.reports'), path === '/reports'],
    ['/reports/team', t('nav.team'), path === '/reports/team'],
    ['/profile', t('nav.profile'), path === '/profile'],
  ];
  return (
    <div class="shell">
      <a class="skip" href="#main">
        {t('skip')}
      </a>
      <header class="topbar">
        <Link href="/" class="brand" aria-label="taskd">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          <span>taskd</span>
        </Link>
        <button
          class="menu-toggle"
          type="button"
          aria-expanded={menuOpen ? 'true' : 'false'}
          aria-controls="mainnav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          {t('nav.menu')}
          {unread > 0 && (
            <span class="badge" aria-label={t('nav.unread', { n: unread })}>
              {unread > 99 ? '99+' : unread}
            </span>
          )}
        </button>
        <nav id="mainnav" class={'mainnav' + (menuOpen ? ' open' : '')} aria-label={t('nav.menu')}>
          {nav.map(([href, label, active]) => (
            <Link key={href} href={href} class={active ? 'active' : ''} aria-current={active ? 'page' : undefined}>
              {label}
              {href === '/inbox' && unread > 0 && (
                <span class="badge" data-testid="unread-badge" aria-label={t('nav.unread', { n: unread })}>
                  {unread > 99 ? '99+' : unread}
                </span>
              )}
            </Link>
          ))}
        </nav>
        <div class="topbar-right">
          <label class="sr-only" for="lang-select">
            {t('language')}
          </label>
          <select id="lang-select" class="lang" value={lang} onChange={(e) => setLang(e.currentTarget.value)}>
            <option value="ko">한국어</option>
            <option value="en">English</option>
          </select>
          <span class="whoami" title={me && me.email}>
            <Avatar user={me} />
            <span class="whoami-name">{me && (me.name || me.email)}</span>
          </span>
          <button type="button" class="btn btn-ghost btn-sm" onClick={signOut}>
            {t('nav.signout')}
          </button>
        </div>
      </header>
      <main id="main" ref={mainRef}>
        {children}
      </main>
    </div>
  );
}


function NotFound() {
  const { t } = useApp();
  return (
    <section class="page narrow">
      <h1>{t('notfound.title')}</h1>
      <p>
        <Link href="/">{t('notfound.home')}</Link>
      </p>
    </section>
  );
}
