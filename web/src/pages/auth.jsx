import { useState } from 'preact/hooks';
import * as api from '../api/endpoints.js';
import { useApp } from '../ctx.js';
import { errorText } from '../errors.js';
import { Link, navigate, safeNext, useLocation } from '../router.jsx';
import { ariaFor, Field } from '../components/ui.jsx';

function AuthFrame({ title, children }) {
  const { t, lang, setLang } = useApp();
  return (
    <div class="auth">
      <div class="auth-card">
        <div class="auth-brand">
          <img src="/favicon.svg" alt="" width="36" height="36" />
          <span>taskd</span>
        </div>
        <p class="auth-tagline">{t('auth.tagline')}</p>
        <h1>{title}</h1>
        {children}
        <div class="auth-lang">
          <label for="auth-lang">{t('language')}</label>{' '}
          <select id="auth-lang" value={lang} onChange={(e) => setLang(e.currentTarget.value)}>
            <option value="ko">한국어</option>
            <option value="en">English</option>
          </select>
        </div>
      </div>
    </div>
  );
}

/** Sign in; the answer's tokens start the session, then /api/users/me. */
export function SignIn() {
  const { t, setMe, setLang } = useApp();
  const { query } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const notice = query.get('notice');

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.signIn(email.trim(), password);
      const me = await api.me();
      if (me.locale && !localStorage.getItem('taskd.lang')) setLang(me.locale);
      setMe(me);
      navigate(safeNext(query.get('next')), { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <AuthFrame title={t('auth.signin')}>
      {notice && (
        <p class="banner banner-info" role="status" data-testid="auth-notice">
          {notice === 'expired' ? t('auth.expired') : notice === 'deleted' ? t('auth.deleted') : t('auth.signedOut')}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <Field id="signin-email" label={t('auth.email')}>
          <input {...ariaFor('signin-email')} name="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field id="signin-password" label={t('auth.password')}>
          <input {...ariaFor('signin-password')} name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        {error && (
          <p class="form-error" role="alert" data-testid="signin-error">
            {errorText(t, error)}
          </p>
        )}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? t('loading') : t('auth.signin')}
        </button>
      </form>
      <p class="auth-switch">
        {t('auth.noAccount')} <Link href="/sign-up">{t('auth.signup')}</Link>
      </p>
    </AuthFrame>
  );
}

/** Sign up, then sign in with the same credentials. */
export function SignUp() {
  const { t, setMe, lang } = useApp();
  const [f, setF] = useState({ name: '', email: '', phone: '', password: '', password2: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [fieldErr, setFieldErr] = useState({});
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });

  async function submit(e) {
    e.preventDefault();
    setError(null);
    setFieldErr({});
    if (f.password !== f.password2) {
      setFieldErr({ password2: t('auth.mismatch') });
      return;
    }
    setBusy(true);
    try {
      await api.signUp({ email: f.email.trim(), password: f.password, name: f.name.trim(), phone: f.phone.trim() });
      await api.signIn(f.email.trim(), f.password);
      let me = await api.me();
      if (lang !== (me.locale || 'ko')) {
        // Keep the language chosen on this page as the account's locale.
        try {
          me = (await api.updateMe({ locale: lang })) || { ...me, locale: lang };
        } catch {
          /* not essential */
        }
      }
      setMe(me);
      navigate('/', { replace: true });
    } catch (err) {
      const key = { email: 'email', password: 'password', name: 'name', phone: 'phone' }[err.field];
      if (key) setFieldErr({ [key]: errorText(t, err) });
      else setError(err);
      setBusy(false);
    }
  }

  const fld = (k, label, type, auto, hint) => (
    <Field id={'signup-' + k} label={label} error={fieldErr[k]} hint={hint}>
      <input {...ariaFor('signup-' + k, fieldErr[k], hint)} name={k} type={type} autocomplete={auto} value={f[k]} onInput={set(k)} />
    </Field>
  );

  return (
    <AuthFrame title={t('auth.signup')}>
      <form onSubmit={submit} noValidate>
        {fld('name', t('auth.name'), 'text', 'name')}
        {fld('email', t('auth.email'), 'email', 'email')}
        {fld('phone', t('auth.phone'), 'tel', 'tel')}
        {fld('password', t('auth.password'), 'password', 'new-password', t('auth.passwordHint'))}
        {fld('password2', t('auth.password2'), 'password', 'new-password')}
        {error && (
          <p class="form-error" role="alert" data-testid="signup-error">
            {errorText(t, error)}
          </p>
        )}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? t('loading') : t('auth.signup')}
        </button>
      </form>
      <p class="auth-switch">
        {t('auth.haveAccount')} <Link href="/sign-in">{t('auth.signin')}</Link>
      </p>
    </AuthFrame>
  );
}
