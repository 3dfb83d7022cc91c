package httpport

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	tasksapp "github.com/taskd/taskd/modules/tasks/app"
	"github.com/taskd/taskd/modules/tasks/app/command"
	"github.com/taskd/taskd/modules/tasks/app/query"
	"github.com/taskd/taskd/ports/http/auth"
	"github.com/taskd/taskd/ports/http/httpio"
)

// Messages of the task routes: the seed's, to the letter (the delete
// message has no final period in the seed).
const (
	MsgTaskCreated       = "작업이 성공적으로 생성되었습니다."
	MsgTaskUpdated       = "작업이 성공적으로 업데이트되었습니다."
	MsgTaskDeleted       = "작업이 성공적으로 삭제되었습니다"
	MsgTaskList          = "전체 작업 조회"
	MsgTask              = "작업 조회"
	MsgTaskStatusChanged = "작업 상태가 성공적으로 변경되었습니다."
)

var (
	// errTaskNotFound has the code of the tasks module's own error; a path id
	// that is not a UUID names no task, so it gets it too.
	errTaskNotFound    = errs.NotFound("task_not_found", "task not found")
	errInvalidIfMatch  = errs.BadRequest("invalid_if_match", "If-Match", `If-Match must be one version: "3", 3 or *`)
	errTaskIDMismatch  = errs.BadRequest("task_id_mismatch", "Task_id", "Task_id in the body must be the task id of the URL")
	errUnknownTaskUser = errs.NotFound("user_not_found", "no user with this e-mail")
)

// createTaskRoute is hashed with the body of keyed creates.
const createTaskRoute = "POST /api/tasks"

// TaskRoutesDeps are what the task routes need.
type TaskRoutesDeps struct {
	App tasksapp.Application
	// UsersByIDs renders user ids as e-mails (once per answer); ResolveUser
	// resolves the e-mails of list filters. Both are identity queries.
	UsersByIDs  identityquery.UsersByIDsHandler
	ResolveUser identityquery.ResolveUserHandler
	Auth        *auth.Authenticator
	Idempotency IdempotencyStore
	Clock       func() time.Time // default time.Now
	NewID       func() string    // task ids (default UUIDv7)
	Config      Config
}

// TaskRoutes serves the seed's task API and its extensions.
type TaskRoutes struct {
	app        tasksapp.Application
	usersByIDs identityquery.UsersByIDsHandler
	resolve    identityquery.ResolveUserHandler
	auth       *auth.Authenticator
	idem       IdempotencyStore
	clock      func() time.Time
	newID      func() string
	maxBody    int64
}

// NewTaskRoutes checks d and builds the routes.
func NewTaskRoutes(d TaskRoutesDeps) (*TaskRoutes, error) {
	var missing []error
	c, q := d.App.Commands, d.App.Queries
	for _, dep := range []struct {
		name string
		ok   bool
	}{
		{"Auth", d.Auth != nil}, {"Idempotency", d.Idempotency != nil}, {"UsersByIDs", d.UsersByIDs != nil},
		{"ResolveUser", d.ResolveUser != nil}, {"CreateTask", c.CreateTask != nil}, {"UpdateTask", c.UpdateTask != nil},
		{"ChangeTaskStatus", c.ChangeTaskStatus != nil}, {"DeleteTask", c.DeleteTask != nil},
		{"TaskByID", q.TaskByID != nil}, {"Tasks", q.Tasks != nil},
	} {
		if !dep.ok {
			missing = append(missing, errors.New("httpport: task routes need "+dep.name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.NewID == nil {
		d.NewID = newUUIDv7
	}
	return &TaskRoutes{
		app: d.App, usersByIDs: d.UsersByIDs, resolve: d.ResolveUser, auth: d.Auth, idem: d.Idempotency,
		clock: d.Clock, newID: d.NewID, maxBody: d.Config.withDefaults().MaxBodyBytes,
	}, nil
}

// RegisterRoutes implements RouteRegistrar. Every task route needs a
// signed-in user.
func (h *TaskRoutes) RegisterRoutes(r *mux.Router) {
	authed := func(f http.HandlerFunc) http.Handler { return h.auth.Require(f) }
	r.Handle("/api/tasks", authed(h.createTask)).Methods(http.MethodPost)
	r.Handle("/api/tasks", authed(h.listTasks)).Methods(http.MethodGet)
	r.Handle("/api/tasks/{id}", authed(h.getTask)).Methods(http.MethodGet)
	r.Handle("/api/tasks/{id}", authed(h.updateTask)).Methods(http.MethodPut)
	r.Handle("/api/tasks/{id}", authed(h.deleteTask)).Methods(http.MethodDelete)
	r.Handle("/api/tasks/{id}/status", authed(h.changeStatus)).Methods(http.MethodPost)
}

type createTaskRequest struct {
	Name       string `json:"Task_name"`
	Contents   string `json:"Task_contents"`
	Status     string `json:"Task_status"`
	Priority   string `json:"Task_priority"`
	Deadline   string `json:"Deadline"`
	PIC        string `json:"PIC"`
	Supervisor string `json:"Supervisor"`
}

type createTaskResponse struct {
	Message string `json:"message"`
	TaskID  string `json:"Task_id"`
}

// createTask is the seed's POST /api/tasks. With an Idempotency-Key, the
// same user, key and body within 24 h get the first answer again; the task
// id is derived from them, so concurrent duplicates cannot both insert.
func (h *TaskRoutes) createTask(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	body, err := httpio.ReadBody(w, r, h.maxBody)
	if err == nil && body == nil {
		err = httpio.ErrBodyRequired
	}
	var req createTaskRequest
	if err == nil {
		err = httpio.DecodeBytes(body, &req)
	}
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	key, keyed, err := idempotencyKey(r)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	id, hash := h.newID(), ""
	if keyed {
		hash = requestHash(createTaskRoute, body)
		id = idempotentID(act.UserID, key, hash)
		if replay(w, r, h.idem, act.UserID, key, hash, "/api/tasks/"+id, h.clock()) {
			return
		}
	}
	err = h.app.Commands.CreateTask.Handle(r.Context(), command.CreateTask{
		ID: id, Actor: act, Name: req.Name, Contents: req.Contents, Status: req.Status, Priority: req.Priority,
		Deadline: req.Deadline, PIC: req.PIC, Supervisor: req.Supervisor,
	})
	answer, _ := json.Marshal(createTaskResponse{Message: MsgTaskCreated, TaskID: id})
	if err != nil {
		if keyed && h.createdBy(r.Context(), act, id) {
			// A duplicate of this request, running at the same time (or
			// interrupted before it saved its answer), created the task:
			// its answer is this one, byte for byte.
			writeReplay(w, http.StatusCreated, answer, "/api/tasks/"+id)
			return
		}
		httpio.Error(w, r, err)
		return
	}
	if keyed {
		if err := h.idem.Save(r.Context(), act.UserID, key, hash, http.StatusCreated, answer, h.clock()); err != nil {
			// The task exists; a retry finds it through its derived id.
			httpio.Logger(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, "saving idempotent answer", slog.String("error", err.Error()))
		}
	}
	w.Header().Set("Location", "/api/tasks/"+id)
	httpio.RawJSON(w, http.StatusCreated, answer)
}

// createdBy tells whether the task id exists and was created by a.
func (h *TaskRoutes) createdBy(ctx context.Context, a actor.Actor, id string) bool {
	t, err := h.app.Queries.TaskByID.Handle(ctx, query.TaskByID{ID: id, Actor: a})
	return err == nil && t.ID == id && t.CreatorID == a.UserID
}

type taskResponse struct {
	Message string   `json:"message"`
	Task    taskJSON `json:"task"`
}

func (h *TaskRoutes) getTask(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	id, err := taskID(r)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	t, err := h.app.Queries.TaskByID.Handle(r.Context(), query.TaskByID{ID: id, Actor: act})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	users, err := h.emails(r.Context(), []query.Task{t})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	setETag(w, t.Version)
	httpio.JSON(w, r, http.StatusOK, taskResponse{Message: MsgTask, Task: newTaskJSON(t, users)})
}

type tasksResponse struct {
	Message    string     `json:"message"`
	Tasks      []taskJSON `json:"tasks"`
	NextCursor *string    `json:"next_cursor"`
}

func (h *TaskRoutes) listTasks(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	f, err := h.parseFilter(r, act)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	page, err := h.app.Queries.Tasks.Handle(r.Context(), query.Tasks{Actor: act, Filter: f})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	users, err := h.emails(r.Context(), page.Tasks)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	out := tasksResponse{Message: MsgTaskList, Tasks: make([]taskJSON, 0, len(page.Tasks)), NextCursor: nilIfEmpty(page.NextCursor)}
	for _, t := range page.Tasks {
		out.Tasks = append(out.Tasks, newTaskJSON(t, users))
	}
	httpio.JSON(w, r, http.StatusOK, out)
}

type updateTaskRequest struct {
	Name       httpio.Optional[string] `json:"Task_name"`
	Contents   httpio.Optional[string] `json:"Task_contents"`
	Status     httpio.Optional[string] `json:"Task_status"`
	Priority   httpio.Optional[string] `json:"Task_priority"`
	Deadline   httpio.Optional[string] `json:"Deadline"`
	PIC        httpio.Optional[string] `json:"PIC"`
	Supervisor httpio.Optional[string] `json:"Supervisor"`
}

// toCommand maps the fields present to the command; null (or "") clears
// Deadline, PIC, Supervisor and Task_contents, and is a type error for the
// name, status and priority, which cannot be empty.
func (req updateTaskRequest) toCommand(id string, act actor.Actor, version *int64) (command.UpdateTask, error) {
	cmd := command.UpdateTask{ID: id, Actor: act, ExpectedVersion: version}
	var err error
	if cmd.Name, err = required(req.Name, "Task_name"); err != nil {
		return cmd, err
	}
	if cmd.Status, err = required(req.Status, "Task_status"); err != nil {
		return cmd, err
	}
	if cmd.Priority, err = required(req.Priority, "Task_priority"); err != nil {
		return cmd, err
	}
	cmd.Contents = clearable(req.Contents)
	cmd.Deadline = clearable(req.Deadline)
	cmd.PIC = clearable(req.PIC)
	cmd.Supervisor = clearable(req.Supervisor)
	return cmd, nil
}

// updateTask is the seed's PUT: a partial update of the fields present.
func (h *TaskRoutes) updateTask(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	id, version, err := taskIDAndVersion(r)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	var req updateTaskRequest
	if err := httpio.Decode(w, r, h.maxBody, &req); err != nil {
		httpio.Error(w, r, err)
		return
	}
	cmd, err := req.toCommand(id, act, version)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	if err := h.app.Commands.UpdateTask.Handle(r.Context(), cmd); err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.setCurrentETag(r.Context(), w, act, id)
	httpio.JSON(w, r, http.StatusOK, messageResponse{Message: MsgTaskUpdated})
}

type changeStatusRequest struct {
	Status string `json:"Task_status"`
}

type changeStatusResponse struct {
	Message string `json:"message"`
	TaskID  string `json:"Task_id"`
	Status  string `json:"Task_status"`
}

// changeStatus moves a task: waiting ⇄ in_progress → done, done → in_progress (reopen).
func (h *TaskRoutes) changeStatus(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	id, version, err := taskIDAndVersion(r)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	var req changeStatusRequest
	if err := httpio.Decode(w, r, h.maxBody, &req); err != nil {
		httpio.Error(w, r, err)
		return
	}
	if err := h.app.Commands.ChangeTaskStatus.Handle(r.Context(), command.ChangeTaskStatus{
		ID: id, Actor: act, ExpectedVersion: version, Status: req.Status,
	}); err != nil {
		httpio.Error(w, r, err)
		return
	}
	out := changeStatusResponse{Message: MsgTaskStatusChanged, TaskID: id}
	if t, ok := h.setCurrentETag(r.Context(), w, act, id); ok {
		out.Status = t.Status
	}
	httpio.JSON(w, r, http.StatusOK, out)
}

type deleteTaskRequest struct {
	TaskID httpio.Optional[string] `json:"Task_id"`
}

type deleteTaskResponse struct {
	Message string `json:"message"`
	TaskID  string `json:"Task_id"`
	Name    string `json:"Task_name"`
}

// deleteTask is the seed's DELETE; its body {Task_id} is optional and, when
// given, must name the task of the URL.
func (h *TaskRoutes) deleteTask(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	id, version, err := taskIDAndVersion(r)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	var req deleteTaskRequest
	if _, err := httpio.DecodeOptional(w, r, h.maxBody, &req); err != nil {
		httpio.Error(w, r, err)
		return
	}
	if req.TaskID.Set {
		if u, err := uuid.Parse(req.TaskID.Value); req.TaskID.Null || err != nil || u.String() != id {
			httpio.Error(w, r, errTaskIDMismatch)
			return
		}
	}
	t, err := h.app.Queries.TaskByID.Handle(r.Context(), query.TaskByID{ID: id, Actor: act})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	if err := h.app.Commands.DeleteTask.Handle(r.Context(), command.DeleteTask{ID: id, Actor: act, ExpectedVersion: version}); err != nil {
		httpio.Error(w, r, err)
		return
	}
	httpio.JSON(w, r, http.StatusOK, deleteTaskResponse{Message: MsgTaskDeleted, TaskID: id, Name: t.Name})
}

// setCurrentETag reads the task after a change to answer its new version.
// The change is done; a failed read only leaves the ETag out.
func (h *TaskRoutes) setCurrentETag(ctx context.Context, w http.ResponseWriter, act actor.Actor, id string) (query.Task, bool) {
	t, err := h.app.Queries.TaskByID.Handle(ctx, query.TaskByID{ID: id, Actor: act})
	if err != nil {
		return query.Task{}, false
	}
	setETag(w, t.Version)
	return t, true
}

// emails maps the user ids of tasks to their users with one query.
func (h *TaskRoutes) emails(ctx context.Context, tasks []query.Task) (map[string]string, error) {
	seen := map[string]bool{}
	var ids []string
	for _, t := range tasks {
		for _, id := range []string{t.PICID, t.SupervisorID, t.CreatorID} {
			if id != "" && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	users, err := h.usersByIDs.Handle(ctx, identityquery.UsersByIDs{IDs: ids})
	if err != nil {
		return nil, err
	}
	for id, u := range users {
		out[id] = u.Email
	}
	return out, nil
}

// taskJSON is a task in the seed's naming. PIC, Supervisor and Creator are
// e-mails (null when none, or when the user was deleted); *_id are user ids.
type taskJSON struct {
	ID           string  `json:"Task_id"`
	Name         string  `json:"Task_name"`
	Contents     string  `json:"Task_contents"`
	Status       string  `json:"Task_status"`
	Priority     string  `json:"Task_priority"`
	Deadline     *string `json:"Deadline"`
	PIC          *string `json:"PIC"`
	PICID        *string `json:"PIC_id"`
	Supervisor   *string `json:"Supervisor"`
	SupervisorID *string `json:"Supervisor_id"`
	Creator      *string `json:"Creator"`
	CreatorID    *string `json:"Creator_id"`
	CreatedAt    string  `json:"Created_at"`
	UpdatedAt    string  `json:"Updated_at"`
	StartedAt    *string `json:"Started_at"`
	CompletedAt  *string `json:"Completed_at"`
	Version      int64   `json:"Version"`
}

func newTaskJSON(t query.Task, emails map[string]string) taskJSON {
	email := func(id string) *string {
		if e, ok := emails[id]; ok && id != "" {
			return &e
		}
		return nil
	}
	return taskJSON{
		ID: t.ID, Name: t.Name, Contents: t.Contents, Status: t.Status, Priority: t.Priority,
		Deadline: formatTimePtr(t.Deadline),
		PIC:      email(t.PICID), PICID: nilIfEmpty(t.PICID),
		Supervisor: email(t.SupervisorID), SupervisorID: nilIfEmpty(t.SupervisorID),
		Creator: email(t.CreatorID), CreatorID: nilIfEmpty(t.CreatorID),
		CreatedAt: formatTime(t.CreatedAt), UpdatedAt: formatTime(t.UpdatedAt),
		StartedAt: formatTimePtr(t.StartedAt), CompletedAt: formatTimePtr(t.CompletedAt),
		Version: t.Version,
	}
}

// taskID is the canonical task id of the URL; one that is not a UUID names
// no task (404 task_not_found).
func taskID(r *http.Request) (string, error) {
	u, err := uuid.Parse(mux.Vars(r)["id"])
	if err != nil {
		return "", errTaskNotFound
	}
	return u.String(), nil
}

func taskIDAndVersion(r *http.Request) (string, *int64, error) {
	id, err := taskID(r)
	if err != nil {
		return "", nil, err
	}
	v, err := ifMatch(r)
	return id, v, err
}

// ifMatch reads If-Match: a version, quoted ("3", as the ETag) or bare (3);
// * (or no header) means any version.
func ifMatch(r *http.Request) (*int64, error) {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > 1 {
		return nil, errInvalidIfMatch
	}
	v := strings.TrimSpace(vals[0])
	if v == "*" {
		return nil, nil
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || len(v) > 19 || strings.TrimLeft(v, "0123456789") != "" {
		return nil, errInvalidIfMatch
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return nil, errInvalidIfMatch
	}
	return &n, nil
}

func setETag(w http.ResponseWriter, version int64) {
	w.Header().Set("ETag", `"`+strconv.FormatInt(version, 10)+`"`)
}
