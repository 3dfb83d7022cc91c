package httpport_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	httpport "github.com/taskd/taskd/ports/http"
	"github.com/taskd/taskd/ports/http/ratelimit"
)

func TestSignUp(t *testing.T) {
	e := newEnv(t)
	rec := e.do(req{method: "POST", path: "/api/sign_up", body: `{"email":"  Kim@Example.COM ","password":"correct horse battery","name":"김철수","phone":"+821012345678"}`})
	wantStatus(t, rec, http.StatusCreated)
	m := obj(t, rec)
	if keys(m) != "User_id,email,message" || m["message"] != "사용자가 성공적으로 등록되었습니다." || m["email"] != "kim@example.com" {
		t.Fatalf("answer %s", rec.Body.String())
	}
	id := m["User_id"].(string)
	if u, err := uuid.Parse(id); err != nil || u.Version() != 7 {
		t.Fatalf("User_id %q", id)
	}
	c := e.idf.SignUp.Last()
	if c.ID != id || c.Password != "correct horse battery" || c.Name != "김철수" || c.Phone != "+821012345678" {
		t.Fatalf("command %+v", c)
	}
	if strings.Contains(rec.Body.String(), "horse") {
		t.Fatal("password echoed")
	}

	for _, c := range []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"duplicate", `{"email":"kim@example.com","password":"correct horse battery","name":"x"}`, 409, "email_taken", ""},
		{"bad email", `{"email":"kim","password":"correct horse battery","name":"x"}`, 422, "invalid_email", "email"},
		{"short password", `{"email":"lee@example.com","password":"short","name":"x"}`, 422, "password_too_short", "password"},
		{"unknown field", `{"email":"lee@example.com","password":"correct horse battery","name":"x","role":"admin"}`, 400, "unknown_field", "role"},
		{"wrong type", `{"email":"lee@example.com","password":12345678901,"name":"x"}`, 400, "invalid_type", "password"},
		{"empty", ``, 400, "body_required", ""},
		{"malformed", `{"email"`, 400, "malformed_json", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, e.do(req{method: "POST", path: "/api/sign_up", body: c.body}), c.status, c.code, c.field)
		})
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	u := e.world.add(fakeUser{Email: "kim@example.com", Password: "correct horse battery"})
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			rec := e.do(req{method: method, path: "/api/sign_in", body: `{"email":"kim@example.com","password":"correct horse battery"}`})
			wantStatus(t, rec, 200)
			m := obj(t, rec)
			if keys(m) != "access_token,email,expires_in,message,refresh_token,token_type" ||
				m["message"] != "사용자가 성공적으로 로그인했습니다." || m["email"] != "kim@example.com" ||
				m["token_type"] != "Bearer" || m["expires_in"] != float64(900) {
				t.Fatalf("answer %s", rec.Body.String())
			}
			c, err := e.tokens.Verify(m["access_token"].(string))
			if err != nil || c.Subject != u.ID || c.Role != "member" || c.TokenVersion != 1 {
				t.Fatalf("access token claims %+v, %v", c, err)
			}
			raw, err := base64.RawURLEncoding.DecodeString(m["refresh_token"].(string))
			if err != nil || len(raw) != 32 {
				t.Fatalf("refresh token %q is not 32 bytes of base64url", m["refresh_token"])
			}
			if got := e.idf.StartSession.Last(); got.UserID != u.ID || got.RefreshToken != m["refresh_token"] || got.TTL != httpport.DefaultRefreshTokenTTL {
				t.Fatalf("StartSession %+v", got)
			}
			me := e.do(req{method: "GET", path: "/api/users/me", token: m["access_token"].(string)})
			wantStatus(t, me, 200)
		})
	}
	t.Run("wrong e-mail and wrong password answer the same", func(t *testing.T) {
		a := e.do(req{method: "POST", path: "/api/sign_in", body: `{"email":"nobody@example.com","password":"correct horse battery"}`})
		b := e.do(req{method: "POST", path: "/api/sign_in", body: `{"email":"kim@example.com","password":"wrong password!"}`})
		wantErr(t, a, 401, "invalid_credentials", "")
		if a.Code != b.Code || a.Body.String() != b.Body.String() {
			t.Fatalf("answers differ: %s vs %s", a.Body.String(), b.Body.String())
		}
	})
	t.Run("GET without a body", func(t *testing.T) {
		wantErr(t, e.do(req{method: "GET", path: "/api/sign_in"}), 400, "body_required", "")
	})
}

func TestSignInRateLimit(t *testing.T) {
	e := newEnv(t)
	e.world.add(fakeUser{Email: "kim@example.com", Password: "correct horse battery"})
	signIn := func(email, addr string, headers ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/sign_in", strings.NewReader(`{"email":"`+email+`","password":"wrong password!"}`))
		r.RemoteAddr = addr
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, r)
		checkShape(t, rec)
		return rec
	}
	for i := range 5 {
		wantErr(t, signIn("kim@example.com", fmt.Sprintf("10.0.0.%d:1234", i)), 401, "invalid_credentials", "")
	}
	rec := signIn("KIM@example.com", "10.0.0.99:1234")
	wantErr(t, rec, 429, "too_many_requests", "")
	if ra := rec.Header().Get("Retry-After"); ra != "12" {
		t.Fatalf("Retry-After = %q (5 per minute refills one every 12 s)", ra)
	}
	// Another e-mail is not limited by kim's budget.
	wantErr(t, signIn("lee@example.com", "10.0.0.99:1234"), 401, "invalid_credentials", "")
	e.clock.Advance(12 * time.Second)
	wantErr(t, signIn("kim@example.com", "10.0.0.99:1234"), 401, "invalid_credentials", "")

	// Per address: 20 per minute whatever the e-mail; X-Forwarded-For is not trusted by default.
	for i := range 20 {
		wantErr(t, signIn(fmt.Sprintf("u%d@example.com", i), "192.0.2.1:5555", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)), 401, "invalid_credentials", "")
	}
	wantErr(t, signIn("fresh@example.com", "192.0.2.1:6666"), 429, "too_many_requests", "")
	// IPv6 counts per /64.
	for i := range 20 {
		wantStatus(t, signIn(fmt.Sprintf("v%d@example.com", i), fmt.Sprintf("[2001:db8::%x]:1", i+1)), 401)
	}
	wantStatus(t, signIn("v6@example.com", "[2001:db8::ffff]:1"), 429)
}

func TestSignInRateLimitTrustedProxy(t *testing.T) {
	e := newEnv(t, func(c *httpport.Config) {
		c.TrustForwardedFor = true
		c.SignInPerAddress = ratelimit.Limit{Events: 2, Per: time.Minute}
		c.SignInPerEmail = ratelimit.Limit{Events: -1}
	})
	signIn := func(xff string) int {
		r := httptest.NewRequest("POST", "/api/sign_in", strings.NewReader(`{"email":"a@example.com","password":"x"}`))
		r.RemoteAddr = "10.0.0.1:1"
		r.Header.Set("X-Forwarded-For", xff)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, r)
		return rec.Code
	}
	// The last entry (appended by the load balancer) is the client.
	if signIn("1.1.1.1, 203.0.113.5") != 401 || signIn("2.2.2.2, 203.0.113.5") != 401 || signIn("3.3.3.3, 203.0.113.5") != 429 {
		t.Fatal("limit not per last X-Forwarded-For entry")
	}
	if signIn("203.0.113.6") != 401 {
		t.Fatal("another client limited")
	}
}

func TestRefreshAndSignOut(t *testing.T) {
	e := newEnv(t)
	e.world.add(fakeUser{Email: "kim@example.com", Password: "correct horse battery"})
	m := obj(t, e.do(req{method: "POST", path: "/api/sign_in", body: `{"email":"kim@example.com","password":"correct horse battery"}`}))
	first := m["refresh_token"].(string)

	rec := e.do(req{method: "POST", path: "/api/token/refresh", body: `{"refresh_token":"` + first + `"}`})
	wantStatus(t, rec, 200)
	r := obj(t, rec)
	if keys(r) != "access_token,email,expires_in,message,refresh_token,token_type" || r["refresh_token"] == first ||
		r["email"] != "kim@example.com" || r["message"] != "토큰이 성공적으로 갱신되었습니다." {
		t.Fatalf("answer %s", rec.Body.String())
	}
	if c := e.idf.RefreshSession.Last(); c.OldToken != first || c.NewToken != r["refresh_token"] {
		t.Fatalf("RefreshSession %+v", c)
	}
	wantStatus(t, e.do(req{method: "GET", path: "/api/users/me", token: r["access_token"].(string)}), 200)
	// A spent token is refused.
	wantErr(t, e.do(req{method: "POST", path: "/api/token/refresh", body: `{"refresh_token":"` + first + `"}`}), 401, "invalid_refresh_token", "")
	wantErr(t, e.do(req{method: "POST", path: "/api/token/refresh", body: `{"refresh_token":""}`}), 401, "invalid_refresh_token", "")
	wantErr(t, e.do(req{method: "POST", path: "/api/token/refresh", body: `{"refresh_token":"` + strings.Repeat("a", 600) + `"}`}), 401, "invalid_refresh_token", "")
	wantErr(t, e.do(req{method: "POST", path: "/api/token/refresh", body: `{"token":"x"}`}), 400, "unknown_field", "token")

	second := r["refresh_token"].(string)
	rec = e.do(req{method: "POST", path: "/api/sign_out", body: `{"refresh_token":"` + second + `"}`})
	wantStatus(t, rec, 200)
	if obj(t, rec)["message"] != "사용자가 성공적으로 로그아웃했습니다." {
		t.Fatalf("answer %s", rec.Body.String())
	}
	wantErr(t, e.do(req{method: "POST", path: "/api/token/refresh", body: `{"refresh_token":"` + second + `"}`}), 401, "invalid_refresh_token", "")
}

func TestProfile(t *testing.T) {
	e := newEnv(t)
	u, tok := e.user("kim@example.com")

	rec := e.do(req{method: "GET", path: "/api/users/me", token: tok})
	wantStatus(t, rec, 200)
	m := obj(t, rec)
	usr := m["user"].(map[string]any)
	if m["message"] != "사용자 조회" || keys(usr) != "User_id,created_at,email,locale,name,phone,role" || usr["User_id"] != u.ID || usr["phone"] != nil {
		t.Fatalf("answer %s", rec.Body.String())
	}
	if s := strings.ToLower(rec.Body.String()); strings.Contains(s, "password") || strings.Contains(s, "hash") || strings.Contains(s, "horse") {
		t.Fatal("password material in the profile")
	}

	rec = e.do(req{method: "PATCH", path: "/api/users/me", token: tok, body: `{"name":"김","phone":"+821012345678","locale":"en","notification_preferences":{"email":false}}`})
	wantStatus(t, rec, 200)
	m = obj(t, rec)
	usr = m["user"].(map[string]any)
	if m["message"] != "사용자 정보가 성공적으로 수정되었습니다." || usr["name"] != "김" || usr["phone"] != "+821012345678" || usr["locale"] != "en" {
		t.Fatalf("answer %s", rec.Body.String())
	}
	wantStatus(t, e.do(req{method: "PATCH", path: "/api/users/me", token: tok, body: `{"phone":null}`}), 200)
	if c := e.idf.UpdateProfile.Last(); c.Phone == nil || *c.Phone != "" || c.Name != nil || c.Locale != nil {
		t.Fatalf("command %+v", c)
	}
	for _, c := range []struct {
		body        string
		status      int
		code, field string
	}{
		{`{"name":null}`, 400, "invalid_type", "name"},
		{`{"locale":null}`, 400, "invalid_type", "locale"},
		{`{"notification_preferences":"all"}`, 400, "invalid_type", "notification_preferences"},
		{`{"email":"x@example.com"}`, 400, "unknown_field", "email"},
		{`{"phone":"010-1234"}`, 422, "invalid_phone", "phone"},
		{`{"locale":"fr"}`, 422, "invalid_locale", "locale"},
		{``, 400, "body_required", ""},
	} {
		wantErr(t, e.do(req{method: "PATCH", path: "/api/users/me", token: tok, body: c.body}), c.status, c.code, c.field)
	}
}

func TestChangePasswordRevokesTokens(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("kim@example.com")
	wantErr(t, e.do(req{method: "PUT", path: "/api/users/me/password", token: tok, body: `{"old_password":"nope","new_password":"another long one"}`}),
		401, "wrong_password", "")
	wantErr(t, e.do(req{method: "PUT", path: "/api/users/me/password", token: tok, body: `{"old_password":"correct horse battery","new_password":"short"}`}),
		422, "password_too_short", "password")
	rec := e.do(req{method: "PUT", path: "/api/users/me/password", token: tok, body: `{"old_password":"correct horse battery","new_password":"another long one"}`})
	wantStatus(t, rec, 200)
	if obj(t, rec)["message"] != "비밀번호가 성공적으로 변경되었습니다." {
		t.Fatalf("answer %s", rec.Body.String())
	}
	// At once, despite the principal cache.
	wantErr(t, e.do(req{method: "GET", path: "/api/users/me", token: tok}), 401, "invalid_token", "")
}

func TestDeleteAccount(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("kim@example.com")
	wantErr(t, e.do(req{method: "DELETE", path: "/api/users/me", token: tok, body: `{"password":"nope"}`}), 401, "wrong_password", "")
	wantErr(t, e.do(req{method: "DELETE", path: "/api/users/me", token: tok}), 400, "body_required", "")
	rec := e.do(req{method: "DELETE", path: "/api/users/me", token: tok, body: `{"password":"correct horse battery"}`})
	wantStatus(t, rec, 200)
	if obj(t, rec)["message"] != "계정이 성공적으로 삭제되었습니다." {
		t.Fatalf("answer %s", rec.Body.String())
	}
	wantErr(t, e.do(req{method: "GET", path: "/api/users/me", token: tok}), 401, "invalid_token", "")
}

func TestSearchUsers(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("kim@example.com")
	e.world.add(fakeUser{Email: "lee@example.com", Phone: "+821099999999", Password: "secret password"})
	rec := e.do(req{method: "GET", path: "/api/users?q=lee&limit=5", token: tok})
	wantStatus(t, rec, 200)
	m := obj(t, rec)
	users := m["users"].([]any)
	if m["message"] != "사용자 검색" || len(users) != 1 || keys(users[0].(map[string]any)) != "User_id,email,name" {
		t.Fatalf("answer %s", rec.Body.String())
	}
	if e.idf.Users.Calls()[0].Q != "lee" || e.idf.Users.Calls()[0].Limit != 5 {
		t.Fatalf("query %+v", e.idf.Users.Calls()[0])
	}
	wantErr(t, e.do(req{method: "GET", path: "/api/users?name=lee", token: tok}), 400, "unknown_parameter", "name")
	wantErr(t, e.do(req{method: "GET", path: "/api/users?limit=0", token: tok}), 422, "invalid_limit", "limit")
	wantErr(t, e.do(req{method: "GET", path: "/api/users"}), 401, "missing_token", "")
}
