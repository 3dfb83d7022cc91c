import { useEffect, useState } from 'preact/hooks';
import * as api from '../api/endpoints.js';
import { useApp } from '../ctx.js';
import { deadlineInput } from '../dates.js';
import { errorText } from '../errors.js';
import { Link, navigate } from '../router.jsx';
import { ariaFor, ConfirmDialog, ErrorBanner, Field, Loading, UserPicker } from '../components/ui.jsx';

const EMPTY = { name: '', contents: '', status: 'waiting', priority: 'medium', deadline: '', pic: null, supervisor: null };

function formOf(task) {
  return {
    name: task.name,
    contents: task.contents,
    status: task.status,
    priority: task.priority,
    deadline: deadlineInput(task.deadline),
    pic: task.pic,
    supervisor: task.supervisor,
  };
}

const sameUser = (a, b) => (!a && !b) || (a && b && ((a.email && a.email === b.email) || (a.id && a.id === b.id)));

/** Create (/tasks/new) or edit (/tasks/:id/edit) a task; API field errors appear under their field. */
export function TaskEditor({ params }) {
  const { t, me, toast } = useApp();
  const editing = !!params.id;
  const [task, setTask] = useState(null);
  const [f, setF] = useState(editing ? null : { ...EMPTY, supervisor: me });
  const [fieldErr, setFieldErr] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState(false);

  async function load() {
    try {
      const tk = await api.getTask(params.id);
      setTask(tk);
      setF(formOf(tk));
      setError(null);
      setFieldErr({});
    } catch (err) {
      setError(err);
    }
  }
  useEffect(() => {
    if (editing) load();
  }, [params.id]);

  const set = (k, v) => {
    setF((x) => ({ ...x, [k]: v }));
    if (fieldErr[k]) setFieldErr((e) => ({ ...e, [k]: '' }));
  };

  async function submit(e) {
    e.preventDefault();
    setError(null);
    setFieldErr({});
    if (!f.name.trim()) {
      setFieldErr({ name: t('task.nameRequired') });
      document.getElementById('task-name').focus();
      return;
    }
    setBusy(true);
    try {
      if (!editing) {
        const id = await api.createTask({
          name: f.name.trim(),
          contents: f.contents,
          status: f.status,
          priority: f.priority,
          deadline: f.deadline,
          pic: api.userRef(f.pic),
          supervisor: api.userRef(f.supervisor),
        });
        toast(t('task.created.ok'));
        navigate(id ? '/tasks/' + encodeURIComponent(id) : '/', { replace: true });
      } else {
        const base = formOf(task);
        const changes = {};
        for (const k of ['name', 'contents', 'status', 'priority', 'deadline']) {
          const v = k === 'name' ? f.name.trim() : f[k];
          if (v !== base[k]) changes[k] = v === '' && k === 'deadline' ? null : v;
        }
        if (!sameUser(f.pic, base.pic)) changes.pic = f.pic ? api.userRef(f.pic) : null;
        if (!sameUser(f.supervisor, base.supervisor)) changes.supervisor = f.supervisor ? api.userRef(f.supervisor) : null;
        if (Object.keys(changes).length) await api.updateTask(task, changes);
        toast(t('task.updated.ok'));
        navigate('/tasks/' + encodeURIComponent(task.id), { replace: true });
      }
    } catch (err) {
      const field = api.uiField(err.field) || (err.code === 'unknown_user' ? 'pic' : '');
      if (field && !err.conflict) {
        setFieldErr({ [field]: errorText(t, err) });
        const el = document.getElementById('task-' + field);
        if (el) el.focus();
      } else setError(err);
      setBusy(false);
    }
  }

  async function remove() {
    setConfirm(false);
    setBusy(true);
    try {
      await api.deleteTask(task);
      toast(t('task.deleted.ok', { name: task.name }));
      navigate('/', { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  if (editing && !f) {
    return error ? (
      <section class="page narrow">
        <h1>{t('task.edit')}</h1>
        <ErrorBanner error={error} onReload={load} />
      </section>
    ) : (
      <Loading />
    );
  }

  const fe = fieldErr;
  return (
    <section class="page narrow" aria-labelledby="editor-title">
      <p class="crumbs">
        <Link href={editing ? '/tasks/' + encodeURIComponent(params.id) : '/'}>← {editing ? task.name : t('nav.board')}</Link>
      </p>
      <h1 id="editor-title">{editing ? t('task.edit') : t('task.new')}</h1>
      <ErrorBanner error={error} onReload={load} onDismiss={() => setError(null)} />
      <form class="panel form" onSubmit={submit} noValidate data-testid="task-form">
        <Field id="task-name" label={t('task.name')} error={fe.name}>
          <input {...ariaFor('task-name', fe.name)} name="Task_name" type="text" maxLength={200} value={f.name} onInput={(e) => set('name', e.currentTarget.value)} autofocus={!editing} />
        </Field>
        <Field id="task-contents" label={t('task.contents')} error={fe.contents}>
          <textarea {...ariaFor('task-contents', fe.contents)} name="Task_contents" rows={6} value={f.contents} onInput={(e) => set('contents', e.currentTarget.value)} />
        </Field>
        <div class="form-row">
          <Field id="task-status" label={t('task.status')} error={fe.status}>
            <select {...ariaFor('task-status', fe.status)} name="Task_status" value={f.status} onChange={(e) => set('status', e.currentTarget.value)}>
              {api.STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t('status.' + s)}
                </option>
              ))}
            </select>
          </Field>
          <Field id="task-priority" label={t('task.priority')} error={fe.priority}>
            <select {...ariaFor('task-priority', fe.priority)} name="Task_priority" value={f.priority} onChange={(e) => set('priority', e.currentTarget.value)}>
              {api.PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {t('priority.' + p)}
                </option>
              ))}
            </select>
          </Field>
          <Field id="task-deadline" label={t('task.deadline')} error={fe.deadline}>
            <input {...ariaFor('task-deadline', fe.deadline)} name="Deadline" type="date" value={f.deadline} onInput={(e) => set('deadline', e.currentTarget.value)} />
          </Field>
        </div>
        <div class="form-row">
          <Field id="task-pic" label={t('task.pic')} error={fe.pic}>
            <UserPicker id="task-pic" value={f.pic} onChange={(u) => set('pic', u)} invalid={!!fe.pic} describedBy={fe.pic ? 'task-pic-error' : undefined} />
          </Field>
          <Field id="task-supervisor" label={t('task.supervisor')} error={fe.supervisor}>
            <UserPicker id="task-supervisor" value={f.supervisor} onChange={(u) => set('supervisor', u)} invalid={!!fe.supervisor} describedBy={fe.supervisor ? 'task-supervisor-error' : undefined} />
          </Field>
        </div>
        <div class="form-actions">
          {editing && (
            <button type="button" class="btn btn-danger-ghost" onClick={() => setConfirm(true)} disabled={busy} data-testid="delete-task">
              {t('delete')}
            </button>
          )}
          <span class="spacer" />
          <Link class="btn" href={editing ? '/tasks/' + encodeURIComponent(params.id) : '/'}>
            {t('cancel')}
          </Link>
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="save-task">
            {busy ? t('saving') : t('save')}
          </button>
        </div>
      </form>
      {editing && (
        <ConfirmDialog
          open={confirm}
          title={t('delete')}
          body={t('task.confirmDelete', { name: task.name })}
          confirmLabel={t('delete')}
          danger
          onConfirm={remove}
          onCancel={() => setConfirm(false)}
        />
      )}
    </section>
  );
}
