package httpport

import (
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	identityapp "github.com/taskd/taskd/modules/identity/app"
	"github.com/taskd/taskd/modules/identity/app/command"
	"github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/kernel/actor"
	"github.com/taskd/taskd/modules/kernel/errs"
	"github.com/taskd/taskd/ports/http/auth"
	"github.com/taskd/taskd/ports/http/httpio"
	"github.com/taskd/taskd/ports/http/ratelimit"
)

// Messages of the identity routes, in the seed's style.
const (
	MsgSignedUp        = "사용자가 성공적으로 등록되었습니다."
	MsgSignedIn        = "사용자가 성공적으로 로그인했습니다."
	MsgTokenRefreshed  = "토큰이 성공적으로 갱신되었습니다."
	MsgSignedOut       = "사용자가 성공적으로 로그아웃했습니다."
	MsgUser            = "사용자 조회"
	MsgProfileUpdated  = "사용자 정보가 성공적으로 수정되었습니다."
	MsgPasswordChanged = "비밀번호가 성공적으로 변경되었습니다."
	MsgAccountDeleted  = "계정이 성공적으로 삭제되었습니다."
	MsgUsers           = "사용자 검색"
)

var (
	// errInvalidRefreshToken has the code of the identity module's own error.
	errInvalidRefreshToken = errs.Unauthorized("invalid_refresh_token", "the refresh token is invalid, expired or revoked")
	errQueryTooLong        = errs.Invalid("query_too_long", "q", "q is at most 100 characters")
	errInvalidUsersLimit   = errs.Invalid("invalid_limit", "limit", "limit must be between 1 and 100")
)

const maxRefreshTokenLength = 512

// IdentityRoutesDeps are what the identity routes need.
type IdentityRoutesDeps struct {
	App    identityapp.Application
	Tokens *auth.Tokens
	Auth   *auth.Authenticator
	Clock  func() time.Time // default time.Now
	NewID  func() string    // user ids (default UUIDv7)
	Config Config
}

// IdentityRoutes serves sign-up, sign-in, token refresh, sign-out and the
// caller's profile.
type IdentityRoutes struct {
	app     identityapp.Application
	tokens  *auth.Tokens
	auth    *auth.Authenticator
	clock   func() time.Time
	newID   func() string
	cfg     Config
	byEmail *ratelimit.Keyed
	byAddr  *ratelimit.Keyed
}

// NewIdentityRoutes checks d and builds the routes.
func NewIdentityRoutes(d IdentityRoutesDeps) (*IdentityRoutes, error) {
	var missing []error
	c, q := d.App.Commands, d.App.Queries
	for _, dep := range []struct {
		name string
		ok   bool
	}{
		{"Tokens", d.Tokens != nil}, {"Auth", d.Auth != nil},
		{"SignUp", c.SignUp != nil}, {"StartSession", c.StartSession != nil}, {"RefreshSession", c.RefreshSession != nil},
		{"EndSession", c.EndSession != nil}, {"UpdateProfile", c.UpdateProfile != nil}, {"ChangePassword", c.ChangePassword != nil},
		{"DeleteAccount", c.DeleteAccount != nil}, {"Authenticate", q.Authenticate != nil}, {"UserByID", q.UserByID != nil},
		{"SessionPrincipal", q.SessionPrincipal != nil}, {"Users", q.Users != nil},
	} {
		if !dep.ok {
			missing = append(missing, errors.New("httpport: identity routes need "+dep.name))
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
	cfg := d.Config.withDefaults()
	return &IdentityRoutes{
		app: d.App, tokens: d.Tokens, auth: d.Auth, clock: d.Clock, newID: d.NewID, cfg: cfg,
		byEmail: ratelimit.NewKeyed(cfg.SignInPerEmail, d.Clock, 0),
		byAddr:  ratelimit.NewKeyed(cfg.SignInPerAddress, d.Clock, 0),
	}, nil
}

// RegisterRoutes implements RouteRegistrar.
func (h *IdentityRoutes) RegisterRoutes(r *mux.Router) {
	authed := func(f http.HandlerFunc) http.Handler { return h.auth.Require(f) }
	r.HandleFunc("/api/sign_up", h.signUp).Methods(http.MethodPost)
	// The seed signs in with GET and a JSON body; POST is the usual way.
	r.HandleFunc("/api/sign_in", h.signIn).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/api/token/refresh", h.refresh).Methods(http.MethodPost)
	r.HandleFunc("/api/sign_out", h.signOut).Methods(http.MethodPost)
	r.Handle("/api/users/me", authed(h.me)).Methods(http.MethodGet)
	r.Handle("/api/users/me", authed(h.updateMe)).Methods(http.MethodPatch)
	r.Handle("/api/users/me", authed(h.deleteMe)).Methods(http.MethodDelete)
	r.Handle("/api/users/me/password", authed(h.changePassword)).Methods(http.MethodPut)
	r.Handle("/api/users", authed(h.users)).Methods(http.MethodGet)
}

type signUpRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
}

type signUpResponse struct {
	Message string `json:"message"`
	Email   string `json:"email"`
	UserID  string `json:"User_id"`
}

func (h *IdentityRoutes) signUp(w http.ResponseWriter, r *http.Request) {
	var req signUpRequest
	if err := httpio.Decode(w, r, h.cfg.MaxBodyBytes, &req); err != nil {
		httpio.Error(w, r, err)
		return
	}
	id := h.newID()
	if err := h.app.Commands.SignUp.Handle(r.Context(), command.SignUp{
		ID: id, Email: req.Email, Password: req.Password, Name: req.Name, Phone: req.Phone,
	}); err != nil {
		httpio.Error(w, r, err)
		return
	}
	// The answer carries the e-mail as stored (normalised by the module).
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if u, err := h.app.Queries.UserByID.Handle(r.Context(), query.UserByID{ID: id}); err == nil {
		email = u.Email
	}
	w.Header().Set("Location", "/api/users/me")
	httpio.JSON(w, r, http.StatusCreated, signUpResponse{Message: MsgSignedUp, Email: email, UserID: id})
}

type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// sessionResponse answers sign-in and refresh.
type sessionResponse struct {
	Message      string `json:"message"`
	Email        string `json:"email"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

func (h *IdentityRoutes) signIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if err := httpio.Decode(w, r, h.cfg.MaxBodyBytes, &req); err != nil {
		httpio.Error(w, r, err)
		return
	}
	if retry, ok := h.allowSignIn(req.Email, clientAddr(r, h.cfg.TrustForwardedFor)); !ok {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(max(retry, time.Second).Seconds())), 10))
		httpio.Error(w, r, httpio.ErrTooManyRequests)
		return
	}
	p, err := h.app.Queries.Authenticate.Handle(r.Context(), query.Authenticate{Email: req.Email, Password: req.Password})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	refresh, err := auth.NewRefreshToken()
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	if err := h.app.Commands.StartSession.Handle(r.Context(), command.StartSession{
		UserID: p.UserID, RefreshToken: refresh, TTL: h.cfg.RefreshTokenTTL,
	}); err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.writeSession(w, r, MsgSignedIn, p, refresh)
}

// allowSignIn takes one attempt from the client address's and the e-mail's
// budgets; when either is spent it takes none and says how long to wait.
func (h *IdentityRoutes) allowSignIn(email, addr string) (time.Duration, bool) {
	addrRes, retry, ok := h.byAddr.Take(addr)
	if !ok {
		return retry, false
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 {
		email = email[:254]
	}
	if _, retry, ok := h.byEmail.Take(email); !ok {
		addrRes.Cancel()
		return retry, false
	}
	return 0, true
}

func (h *IdentityRoutes) writeSession(w http.ResponseWriter, r *http.Request, msg string, p query.Principal, refresh string) {
	access, _, err := h.tokens.Issue(p.UserID, p.Role, p.TokenVersion)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	httpio.JSON(w, r, http.StatusOK, sessionResponse{
		Message: msg, Email: p.Email, AccessToken: access, RefreshToken: refresh,
		ExpiresIn: int64(h.tokens.AccessTTL() / time.Second), TokenType: "Bearer",
	})
}

type refreshTokenRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (h *IdentityRoutes) decodeRefreshToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	var req refreshTokenRequest
	if err := httpio.Decode(w, r, h.cfg.MaxBodyBytes, &req); err != nil {
		httpio.Error(w, r, err)
		return "", false
	}
	if req.RefreshToken == "" || len(req.RefreshToken) > maxRefreshTokenLength {
		httpio.Error(w, r, errInvalidRefreshToken)
		return "", false
	}
	return req.RefreshToken, true
}

// refresh rotates the refresh token and issues a new access token.
func (h *IdentityRoutes) refresh(w http.ResponseWriter, r *http.Request) {
	old, ok := h.decodeRefreshToken(w, r)
	if !ok {
		return
	}
	next, err := auth.NewRefreshToken()
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	if err := h.app.Commands.RefreshSession.Handle(r.Context(), command.RefreshSession{
		OldToken: old, NewToken: next, TTL: h.cfg.RefreshTokenTTL,
	}); err != nil {
		httpio.Error(w, r, err)
		return
	}
	p, err := h.app.Queries.SessionPrincipal.Handle(r.Context(), query.SessionPrincipal{
		RefreshTokenHash: command.HashRefreshToken(next), Now: h.clock(),
	})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.writeSession(w, r, MsgTokenRefreshed, p, next)
}

type messageResponse struct {
	Message string `json:"message"`
}

// signOut revokes the refresh token (and its rotations). The refresh token
// is the credential, so no access token is needed: one that has expired
// must not keep a user from signing out.
func (h *IdentityRoutes) signOut(w http.ResponseWriter, r *http.Request) {
	token, ok := h.decodeRefreshToken(w, r)
	if !ok {
		return
	}
	if err := h.app.Commands.EndSession.Handle(r.Context(), command.EndSession{RefreshToken: token}); err != nil {
		httpio.Error(w, r, err)
		return
	}
	httpio.JSON(w, r, http.StatusOK, messageResponse{Message: MsgSignedOut})
}

// userJSON is the caller's own view of their account: never a password hash.
type userJSON struct {
	UserID    string  `json:"User_id"`
	Email     string  `json:"email"`
	Name      string  `json:"name"`
	Phone     *string `json:"phone"`
	Role      string  `json:"role"`
	Locale    string  `json:"locale"`
	CreatedAt string  `json:"created_at"`
}

func newUserJSON(u contracts.User) userJSON {
	return userJSON{
		UserID: u.ID, Email: u.Email, Name: u.Name, Phone: nilIfEmpty(u.Phone), Role: u.Role, Locale: u.Locale,
		CreatedAt: formatTime(u.CreatedAt),
	}
}

type userResponse struct {
	Message string   `json:"message"`
	User    userJSON `json:"user"`
}

func (h *IdentityRoutes) me(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	h.writeUser(w, r, MsgUser, act.UserID)
}

func (h *IdentityRoutes) writeUser(w http.ResponseWriter, r *http.Request, msg, id string) {
	u, err := h.app.Queries.UserByID.Handle(r.Context(), query.UserByID{ID: id})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	httpio.JSON(w, r, http.StatusOK, userResponse{Message: msg, User: newUserJSON(u)})
}

type updateProfileRequest struct {
	Name   httpio.Optional[string] `json:"name"`
	Phone  httpio.Optional[string] `json:"phone"`
	Locale httpio.Optional[string] `json:"locale"`
	// NotificationPreferences is accepted (an object) and ignored until the
	// notifications module owns preferences.
	NotificationPreferences map[string]json.RawMessage `json:"notification_preferences"`
}

func (h *IdentityRoutes) updateMe(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	var req updateProfileRequest
	if err := httpio.Decode(w, r, h.cfg.MaxBodyBytes, &req); err != nil {
		httpio.Error(w, r, err)
		return
	}
	cmd := command.UpdateProfile{UserID: act.UserID}
	var err error
	if cmd.Name, err = required(req.Name, "name"); err != nil {
		httpio.Error(w, r, err)
		return
	}
	if cmd.Locale, err = required(req.Locale, "locale"); err != nil {
		httpio.Error(w, r, err)
		return
	}
	cmd.Phone = clearable(req.Phone)
	if err := h.app.Commands.UpdateProfile.Handle(r.Context(), cmd); err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.writeUser(w, r, MsgProfileUpdated, act.UserID)
}

type changePasswordRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

func (h *IdentityRoutes) changePassword(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	var req changePasswordRequest
	if err := httpio.Decode(w, r, h.cfg.MaxBodyBytes, &req); err != nil {
		httpio.Error(w, r, err)
		return
	}
	err := h.app.Commands.ChangePassword.Handle(r.Context(), command.ChangePassword{
		UserID: act.UserID, OldPassword: req.OldPassword, NewPassword: req.NewPassword,
	})
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.auth.Forget(act.UserID) // the token version rose: tokens issued before stop now
	httpio.JSON(w, r, http.StatusOK, messageResponse{Message: MsgPasswordChanged})
}

type deleteAccountRequest struct {
	Password string `json:"password"`
}

func (h *IdentityRoutes) deleteMe(w http.ResponseWriter, r *http.Request) {
	act, ok := actorFrom(w, r)
	if !ok {
		return
	}
	var req deleteAccountRequest
	if err := httpio.Decode(w, r, h.cfg.MaxBodyBytes, &req); err != nil {
		httpio.Error(w, r, err)
		return
	}
	if err := h.app.Commands.DeleteAccount.Handle(r.Context(), command.DeleteAccount{UserID: act.UserID, Password: req.Password}); err != nil {
		httpio.Error(w, r, err)
		return
	}
	h.auth.Forget(act.UserID)
	httpio.JSON(w, r, http.StatusOK, messageResponse{Message: MsgAccountDeleted})
}

// publicUserJSON is another user as a user picker shows them.
type publicUserJSON struct {
	UserID string `json:"User_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
}

type usersResponse struct {
	Message string           `json:"message"`
	Users   []publicUserJSON `json:"users"`
}

// users searches users by name or e-mail (?q=, ?limit= 1–100, default 20).
func (h *IdentityRoutes) users(w http.ResponseWriter, r *http.Request) {
	params, err := queryParams(r, "q", "limit")
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	q := query.Users{Q: strings.TrimSpace(params.Get("q"))}
	if utf8.RuneCountInString(q.Q) > 100 {
		httpio.Error(w, r, errQueryTooLong)
		return
	}
	if s := params.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			httpio.Error(w, r, errInvalidUsersLimit)
			return
		}
		q.Limit = n
	}
	found, err := h.app.Queries.Users.Handle(r.Context(), q)
	if err != nil {
		httpio.Error(w, r, err)
		return
	}
	out := usersResponse{Message: MsgUsers, Users: make([]publicUserJSON, 0, len(found))}
	for _, u := range found {
		out.Users = append(out.Users, publicUserJSON{UserID: u.ID, Email: u.Email, Name: u.Name})
	}
	httpio.JSON(w, r, http.StatusOK, out)
}

// actorFrom returns the signed-in caller; the auth middleware put it there.
func actorFrom(w http.ResponseWriter, r *http.Request) (actor.Actor, bool) {
	a, ok := actor.FromContext(r.Context())
	if !ok || a.IsZero() {
		httpio.Error(w, r, auth.ErrMissingToken)
		return actor.Actor{}, false
	}
	return a, true
}

// clientAddr is the address sign-in attempts are counted against: the peer
// (or, when configured, the last X-Forwarded-For entry, which the load
// balancer appended). IPv6 addresses count per /64, a single host's usual share.
func clientAddr(r *http.Request, trustForwardedFor bool) string {
	if trustForwardedFor {
		if vals := r.Header.Values("X-Forwarded-For"); len(vals) > 0 {
			last := vals[len(vals)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return addrKey(ip)
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil {
		return addrKey(ip)
	}
	return host
}

func addrKey(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// queryParams parses the query string strictly: well-formed, valid UTF-8,
// only the allowed names, each at most once.
func queryParams(r *http.Request, allowed ...string) (url.Values, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errMalformedQuery
	}
	for name, vs := range vals {
		if !contains(allowed, name) {
			field := name
			if len(field) > 64 {
				field = field[:64]
			}
			return nil, errUnknownParameter.WithField(field).WithMessage("unknown query parameter %q", field)
		}
		if len(vs) > 1 {
			return nil, errDuplicateParameter.WithField(name).WithMessage("query parameter %q is given more than once", name)
		}
		if !utf8.ValidString(vs[0]) {
			return nil, errInvalidParameter.WithField(name).WithMessage("query parameter %q is not valid UTF-8", name)
		}
	}
	return vals, nil
}

var (
	errMalformedQuery     = errs.BadRequest("malformed_query", "", "the query string is malformed")
	errUnknownParameter   = errs.BadRequest("unknown_parameter", "", "unknown query parameter")
	errDuplicateParameter = errs.BadRequest("duplicate_parameter", "", "query parameter given more than once")
	errInvalidParameter   = errs.BadRequest("invalid_parameter", "", "invalid query parameter")
)

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// required maps a present, non-null Optional to a pointer; null is a type error.
func required(o httpio.Optional[string], field string) (*string, error) {
	if !o.Set {
		return nil, nil
	}
	if o.Null {
		return nil, httpio.ErrInvalidType.WithField(field).WithMessage("%s must be a string", field)
	}
	v := o.Value
	return &v, nil
}

// clearable maps a present Optional to a pointer; null means "" (remove).
func clearable(o httpio.Optional[string]) *string {
	if !o.Set {
		return nil
	}
	v := o.Value
	return &v
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// formatTime renders times as RFC 3339 in UTC.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func formatTimePtr(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := formatTime(*t)
	return &s
}
