import { useEffect, useState } from 'preact/hooks';
import * as api from '../api/endpoints.js';
import { useApp } from '../ctx.js';
import { errorText, isUnavailable } from '../errors.js';
import { navigate } from '../router.jsx';
import { ariaFor, ConfirmDialog, ErrorBanner, Field } from '../components/ui.jsx';

export function Profile() {
  const { t } = useApp();
  return (
    <section class="page narrow" aria-labelledby="profile-title">
      <h1 id="profile-title">{t('prof.title')}</h1>
      <Info />
      <Prefs />
      <Password />
      <DeleteAccount />
    </section>
  );
}

function Info() {
  const { t, me, setMe, setLang, toast } = useApp();
  const [f, setF] = useState({ name: me.name, phone: me.phone || '', locale: me.locale || 'ko' });
  const [err, setErr] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setErr({});
    setError(null);
    try {
      const changes = {};
      if (f.name !== me.name) changes.name = f.name.trim();
      if (f.phone !== (me.phone || '')) changes.phone = f.phone.trim();
      if (f.locale !== (me.locale || 'ko')) changes.locale = f.locale;
      if (Object.keys(changes).length) await api.updateMe(changes);
      const fresh = await api.me();
      setMe(fresh);
      setLang(fresh.locale || f.locale);
      toast(t('prof.saved'));
    } catch (x) {
      if (['name', 'phone', 'locale'].includes(x.field)) setErr({ [x.field]: errorText(t, x) });
      else setError(x);
    }
    setBusy(false);
  }

  return (
    <form class="panel form" onSubmit={submit} noValidate aria-labelledby="info-title">
      <h2 id="info-title" class="h3">
        {t('prof.info')}
      </h2>
      <p class="muted">
        {me.email} · {t('prof.role')}: {t('role.' + me.role)}
      </p>
      <ErrorBanner error={error} />
      <div class="form-row">
        <Field id="p-name" label={t('auth.name')} error={err.name}>
          <input {...ariaFor('p-name', err.name)} type="text" autocomplete="name" value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
        </Field>
        <Field id="p-phone" label={t('auth.phone')} error={err.phone}>
          <input {...ariaFor('p-phone', err.phone)} type="tel" autocomplete="tel" value={f.phone} onInput={(e) => setF({ ...f, phone: e.currentTarget.value })} />
        </Field>
        <Field id="p-locale" label={t('prof.locale')} error={err.locale}>
          <select {...ariaFor('p-locale', err.locale)} value={f.locale} onChange={(e) => setF({ ...f, locale: e.currentTarget.value })}>
            <option value="ko">한국어</option>
            <option value="en">English</option>
          </select>
        </Field>
      </div>
      <div class="form-actions">
        <span class="spacer" />
        <button class="btn btn-primary" type="submit" disabled={busy}>
          {busy ? t('saving') : t('save')}
        </button>
      </div>
    </form>
  );
}

const label = (t, key, fallback) => (t(key) === key ? fallback : t(key));

function Prefs() {
  const { t, toast } = useApp();
  const [prefs, setPrefs] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.notificationPrefs().then(setPrefs, setError);
  }, []);

  const toggle = (k, ch) => setPrefs((p) => ({ ...p, kinds: { ...p.kinds, [k]: { ...p.kinds[k], [ch]: !p.kinds[k][ch] } } }));

  async function save(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.saveNotificationPrefs(prefs);
      toast(t('prof.saved'));
    } catch (x) {
      setError(x);
    }
    setBusy(false);
  }

  return (
    <form class="panel form" onSubmit={save} aria-labelledby="prefs-title">
      <h2 id="prefs-title" class="h3">
        {t('prof.notifications')}
      </h2>
      {error && (isUnavailable(error) ? <p class="muted">{t('err.unavailable')}</p> : <ErrorBanner error={error} />)}
      {prefs && (
        <>
          <div class="table-wrap">
            <table class="prefs">
              <thead>
                <tr>
                  <th scope="col" />
                  {prefs.channels.map((ch) => (
                    <th key={ch} scope="col">
                      {label(t, 'chan.' + ch, ch)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {Object.keys(prefs.kinds).map((k) => (
                  <tr key={k}>
                    <th scope="row">{label(t, 'kind.' + k, k)}</th>
                    {prefs.channels.map((ch) => (
                      <td key={ch}>
                        <input
                          type="checkbox"
                          aria-label={`${label(t, 'kind.' + k, k)} — ${label(t, 'chan.' + ch, ch)}`}
                          checked={prefs.kinds[k][ch]}
                          onChange={() => toggle(k, ch)}
                        />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <fieldset class="quiet">
            <legend>{t('prof.quiet')}</legend>
            <label>
              {t('prof.quietFrom')}{' '}
              <input type="time" value={prefs.quiet?.start || ''} onInput={(e) => setPrefs({ ...prefs, quiet: { ...(prefs.quiet || {}), start: e.currentTarget.value } })} />
            </label>
            <label>
              {t('prof.quietTo')}{' '}
              <input type="time" value={prefs.quiet?.end || ''} onInput={(e) => setPrefs({ ...prefs, quiet: { ...(prefs.quiet || {}), end: e.currentTarget.value } })} />
            </label>
          </fieldset>
          <div class="form-actions">
            <span class="spacer" />
            <button class="btn btn-primary" type="submit" disabled={busy}>
              {busy ? t('saving') : t('save')}
            </button>
          </div>
        </>
      )}
    </form>
  );
}

function Password() {
  const { t, setMe } = useApp();
  const [f, setF] = useState({ old: '', next: '' });
  const [err, setErr] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setErr({});
    setError(null);
    try {
      await api.changePassword(f.old, f.next);
      // Every session ends on a password change: sign in again.
      await api.signOut();
      setMe(null);
      navigate('/sign-in?notice=signedout', { replace: true });
    } catch (x) {
      if (x.status === 401 || /old|current/.test(x.field || '')) setErr({ old: errorText(t, x) });
      else if (/password/.test(x.field || '')) setErr({ next: errorText(t, x) });
      else setError(x);
      setBusy(false);
    }
  }

  return (
    <form class="panel form" onSubmit={submit} noValidate aria-labelledby="pw-title">
      <h2 id="pw-title" class="h3">
        {t('prof.password')}
      </h2>
      <ErrorBanner error={error} />
      <div class="form-row">
        <Field id="pw-old" label={t('prof.oldPassword')} error={err.old}>
          <input {...ariaFor('pw-old', err.old)} type="password" autocomplete="current-password" value={f.old} onInput={(e) => setF({ ...f, old: e.currentTarget.value })} />
        </Field>
        <Field id="pw-new" label={t('prof.newPassword')} error={err.next} hint={t('auth.passwordHint')}>
          <input {...ariaFor('pw-new', err.next, true)} type="password" autocomplete="new-password" value={f.next} onInput={(e) => setF({ ...f, next: e.currentTarget.value })} />
        </Field>
      </div>
      <div class="form-actions">
        <span class="spacer" />
        <button class="btn btn-primary" type="submit" disabled={busy || !f.old || !f.next}>
          {t('prof.password')}
        </button>
      </div>
    </form>
  );
}

function DeleteAccount() {
  const { t, setMe } = useApp();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState(null);

  async function remove() {
    setConfirm(false);
    setError(null);
    try {
      await api.deleteAccount(password);
      setMe(null);
      navigate('/sign-in?notice=deleted', { replace: true });
    } catch (x) {
      setError(x);
    }
  }

  return (
    <>
    <form
      class="panel form danger-zone"
      onSubmit={(e) => {
        e.preventDefault();
        if (password) setConfirm(true);
      }}
      noValidate
      aria-labelledby="del-title"
    >
      <h2 id="del-title" class="h3">
        {t('prof.delete')}
      </h2>
      <p class="muted">{t('prof.deleteHelp')}</p>
      <Field id="del-password" label={t('auth.password')} error={error ? errorText(t, error) : ''}>
        <input {...ariaFor('del-password', error)} type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      </Field>
      <div class="form-actions">
        <span class="spacer" />
        <button class="btn btn-danger" type="submit" disabled={!password}>
          {t('prof.deleteButton')}
        </button>
      </div>
    </form>
    <ConfirmDialog open={confirm} title={t('prof.delete')} body={t('prof.deleteConfirm')} confirmLabel={t('prof.deleteButton')} danger onConfirm={remove} onCancel={() => setConfirm(false)} />
    </>
  );
}
