import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api/endpoints.js';
import { useApp } from '../ctx.js';
import { errorText } from '../errors.js';

export function displayName(u) {
  if (!u) return '';
  return u.name || (u.email ? u.email : u.id ? u.id.slice(0, 8) : '');
}

const AVATAR_HUES = [210, 260, 330, 20, 140, 180, 40, 290];
export function Avatar({ user, size = 'md' }) {
  if (!user) return <span class={`avatar avatar-${size} avatar-empty`} aria-hidden="true" />;
  const label = displayName(user);
  const key = user.email || user.id || label;
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) >>> 0;
  const hue = AVATAR_HUES[hash % AVATAR_HUES.length];
  const initial = (user.name || user.email || '?').trim().charAt(0).toUpperCase();
  return (
    <span class={`avatar avatar-${size} hue-${hue}`} aria-hidden="true">
      {initial}
    </span>
  );
}

export function UserChip({ user, empty }) {
  const { t } = useApp();
  if (!user) return <span class="user-chip muted">{empty || t('unassigned')}</span>;
  return (
    <span class="user-chip" title={user.email || ''}>
      <Avatar user={user} size="sm" />
      <span class="user-chip-name">{displayName(user)}</span>
    </span>
  );
}

export function Toasts({ toasts }) {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.map((x) => (
        <div key={x.id} class={'toast toast-' + x.kind}>
          {x.text}
        </div>
      ))}
    </div>
  );
}

/** An API error; a conflict (412) offers a reload. */
export function ErrorBanner({ error, onReload, onDismiss }) {
  const { t } = useApp();
  if (!error) return null;
  return (
    <div class={'banner banner-error' + (error.conflict ? ' banner-conflict' : '')} role="alert" data-testid={error.conflict ? 'conflict' : 'api-error'}>
      <span class="banner-text">{errorText(t, error)}</span>
      {error.code && error.code !== 'network' && <code class="banner-code">{error.code}</code>}
      <span class="banner-actions">
        {onReload && (error.conflict || error.code === 'network') && (
          <button type="button" class="btn btn-sm" onClick={onReload}>
            {t('reload')}
          </button>
        )}
        {onDismiss && (
          <button type="button" class="btn btn-sm btn-ghost" onClick={onDismiss} aria-label={t('close')}>
            ✕
          </button>
        )}
      </span>
    </div>
  );
}

/** A labelled form control with its error underneath (aria-describedby). */
export function Field({ id, label, error, hint, children }) {
  return (
    <div class={'field' + (error ? ' has-error' : '')}>
      <label for={id}>{label}</label>
      {children}
      {hint && !error && (
        <p class="hint" id={id + '-hint'}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={id + '-error'} role="alert" data-field-error={id}>
          {error}
        </p>
      )}
    </div>
  );
}

export function ariaFor(id, error, hint) {
  return {
    id,
    'aria-invalid': error ? 'true' : undefined,
    'aria-describedby': error ? id + '-error' : hint ? id + '-hint' : undefined,
  };
}

export function PriorityBadge({ priority }) {
  const { t } = useApp();
  return <span class={'prio prio-' + priority}>{t('priority.' + priority)}</span>;
}

export function StatusPill({ status }) {
  const { t } = useApp();
  return <span class={'status status-' + status}>{t('status.' + status)}</span>;
}

/** A modal confirmation built on <dialog> (focus trap and Escape come with it). */
export function ConfirmDialog({ open, title, body, confirmLabel, danger, onConfirm, onCancel, children }) {
  const ref = useRef(null);
  const { t } = useApp();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class="dialog" onCancel={(e) => (e.preventDefault(), onCancel())} aria-labelledby="dialog-title">
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          onConfirm();
        }}
      >
        <h2 id="dialog-title">{title}</h2>
        {body && <p>{body}</p>}
        {children}
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onCancel}>
            {t('cancel')}
          </button>
          <button type="submit" class={'btn ' + (danger ? 'btn-danger' : 'btn-primary')} data-testid="confirm">
            {confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * Pick a user by name or e-mail: a combobox (ARIA 1.2) over GET /api/users?q=.
 * value: user | null; onChange(user | null).
 */
export function UserPicker({ id, value, onChange, invalid, describedBy }) {
  const { t } = useApp();
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState([]);
  const [active, setActive] = useState(-1);
  const [searched, setSearched] = useState(null); // the text the items are for
  const [editing, setEditing] = useState(!value);
  const seq = useRef(0);
  const inputRef = useRef(null);

  useEffect(() => setEditing(!value), [value]);

  useEffect(() => {
    if (!editing || !open) return undefined;
    const q = text.trim();
    const n = ++seq.current;
    const tid = setTimeout(async () => {
      try {
        const users = await api.searchUsers(q);
        if (n === seq.current) {
          setItems(users);
          setActive(users.length ? 0 : -1);
          setSearched(q);
        }
      } catch {
        if (n === seq.current) {
          setItems([]);
          setSearched(q);
        }
      }
    }, 150);
    return () => clearTimeout(tid);
  }, [text, open, editing]);

  const choose = (u) => {
    onChange(u);
    setText('');
    setOpen(false);
    setEditing(false);
  };

  if (!editing && value) {
    return (
      <div class="picker-value" data-testid={id + '-value'}>
        <UserChip user={value} />
        <span class="muted picker-email">{value.email}</span>
        <button
          type="button"
          class="btn btn-sm btn-ghost"
          onClick={() => {
            setEditing(true);
            setTimeout(() => inputRef.current && inputRef.current.focus(), 0);
          }}
        >
          {t('edit')}
        </button>
        <button type="button" class="btn btn-sm btn-ghost" onClick={() => onChange(null)}>
          {t('task.clear')}
        </button>
      </div>
    );
  }

  const listId = id + '-list';
  return (
    <div class="picker">
      <input
        ref={inputRef}
        id={id}
        type="text"
        role="combobox"
        autocomplete="off"
        aria-autocomplete="list"
        aria-expanded={open && items.length ? 'true' : 'false'}
        aria-controls={listId}
        aria-activedescendant={open && active >= 0 ? `${listId}-${active}` : undefined}
        aria-invalid={invalid ? 'true' : undefined}
        aria-describedby={describedBy}
        placeholder={t('picker.placeholder')}
        value={text}
        onInput={(e) => {
          setText(e.currentTarget.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setOpen(true);
            setActive((a) => Math.min(items.length - 1, a + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(0, a - 1));
          } else if (e.key === 'Enter') {
            if (open && active >= 0 && items[active]) {
              e.preventDefault();
              choose(items[active]);
            }
          } else if (e.key === 'Escape') {
            if (open) {
              e.preventDefault();
              e.stopPropagation();
              setOpen(false);
            }
          }
        }}
      />
      {open && (items.length > 0 || (text.trim() && searched === text.trim())) && (
        <ul class="picker-list" id={listId} role="listbox">
          {items.length === 0 && text.trim() && searched === text.trim() && <li class="picker-empty">{t('picker.noMatch')}</li>}
          {items.map((u, i) => (
            <li
              key={u.id || u.email}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active ? 'true' : 'false'}
              class={i === active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(u);
              }}
            >
              <Avatar user={u} size="sm" />
              <span class="picker-name">{u.name || u.email}</span>
              <span class="muted picker-email">{u.email}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading() {
  const { t } = useApp();
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {t('loading')}
    </div>
  );
}
