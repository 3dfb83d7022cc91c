package contracttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	identity "github.com/taskd/taskd/modules/identity/contracts"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

func wantUser(t testing.TB, env Env, want user.Snapshot) {
	t.Helper()
	got, err := env.Users.ByID(ctxOf(t), want.ID)
	must(t, err)
	gs := got.Snapshot()
	sameTime(t, "created_at", &gs.CreatedAt, &want.CreatedAt)
	sameTime(t, "updated_at", &gs.UpdatedAt, &want.UpdatedAt)
	gs.CreatedAt, gs.UpdatedAt = want.CreatedAt, want.UpdatedAt
	equal(t, "user", gs, want)
	email, err := user.EmailFromString(want.Email)
	must(t, err)
	byEmail, err := env.Users.ByEmail(ctxOf(t), email)
	must(t, err)
	equal(t, "user by e-mail", byEmail.ID(), want.ID)
}

// UserRepository is the contract of user.Repository.
func UserRepository(t *testing.T, newEnv func(testing.TB) Env) {
	env := newEnv(t)

	t.Run("add stores the user and UserRegistered", func(t *testing.T) {
		t.Parallel()
		u := addUser(t, env, "김철수")
		wantUser(t, env, u.Snapshot())
		evs := wantEvents(t, env, u.ID(), identity.NameUserRegistered)
		equal(t, "e-mail in event", decode(t, evs[0]).User.Email, u.Email().String())
	})

	t.Run("missing users are not found", func(t *testing.T) {
		t.Parallel()
		_, err := env.Users.ByID(ctxOf(t), newID())
		wantErr(t, err, user.ErrNotFound)
		email, _ := user.EmailFromString("nobody-" + newID() + "@example.com")
		_, err = env.Users.ByEmail(ctxOf(t), email)
		wantErr(t, err, user.ErrNotFound)
		err = env.Users.Update(ctxOf(t), newID(), func(context.Context, *user.User) error {
			t.Error("fn called for a missing user")
			return nil
		})
		wantErr(t, err, user.ErrNotFound)
	})

	t.Run("an e-mail in use is refused, an id in use too", func(t *testing.T) {
		t.Parallel()
		first := addUser(t, env, "first")
		second := newUserWith(t, newID(), "second", strings.ToUpper(first.Email().String()))
		wantErr(t, env.Users.Add(ctxOf(t), second), user.ErrEmailTaken)
		_, err := env.Users.ByID(ctxOf(t), second.ID())
		wantErr(t, err, user.ErrNotFound)
		wantEvents(t, env, second.ID())
		sameID := newUserWith(t, first.ID(), "third", "third-"+newID()+"@example.com")
		wantCode(t, env.Users.Add(ctxOf(t), sameID), "user_exists")
		wantUser(t, env, first.Snapshot())
		wantEvents(t, env, first.ID(), identity.NameUserRegistered)
	})

	t.Run("concurrent sign-ups with one e-mail: exactly one succeeds", func(t *testing.T) {
		t.Parallel()
		const n = 20
		email := "race-" + newID() + "@example.com"
		users := make([]*user.User, n)
		for i := range users {
			users[i] = newUserWith(t, newID(), fmt.Sprint("racer ", i), email)
		}
		results := parallel(n, func(i int) error { return env.Users.Add(ctxOf(t), users[i]) })
		won := -1
		for i, err := range results {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatalf("sign-ups %d and %d both succeeded", won, i)
				}
				won = i
			case !errors.Is(err, user.ErrEmailTaken):
				t.Fatalf("sign-up %d: %v, want nil or ErrEmailTaken", i, err)
			}
		}
		if won < 0 {
			t.Fatal("no sign-up succeeded")
		}
		wantUser(t, env, users[won].Snapshot())
		for i, u := range users {
			if i != won {
				wantEvents(t, env, u.ID())
			}
		}
	})

	t.Run("update saves the user and its events", func(t *testing.T) {
		t.Parallel()
		u := addUser(t, env, "before")
		phone, err := user.PhoneFromString("+821012345678")
		must(t, err)
		var want user.Snapshot
		must(t, env.Users.Update(ctxOf(t), u.ID(), func(_ context.Context, u *user.User) error {
			if err := u.UpdateProfile(user.ProfileEdit{Name: ptr("after"), Phone: &phone, Locale: &user.LocaleEnglish}, at(time.Hour)); err != nil {
				return err
			}
			if err := u.ChangeRole(user.RoleManager, "", at(time.Hour)); err != nil {
				return err
			}
			want = u.Snapshot()
			return nil
		}))
		wantUser(t, env, want)
		equal(t, "token version", want.TokenVersion, int64(2))
		wantEvents(t, env, u.ID(), identity.NameUserRegistered, identity.NameUserUpdated, identity.NameUserUpdated)

		// Clearing the phone stores "no phone".
		must(t, env.Users.Update(ctxOf(t), u.ID(), func(_ context.Context, u *user.User) error {
			err := u.UpdateProfile(user.ProfileEdit{Phone: &user.Phone{}}, at(2*time.Hour))
			want = u.Snapshot()
			return err
		}))
		wantUser(t, env, want)
	})

	t.Run("update that changes nothing, or fails, writes nothing", func(t *testing.T) {
		t.Parallel()
		u := addUser(t, env, "steady")
		must(t, env.Users.Update(ctxOf(t), u.ID(), func(_ context.Context, u *user.User) error {
			return u.UpdateProfile(user.ProfileEdit{Name: ptr("steady")}, at(time.Hour))
		}))
		boom := errors.New("boom")
		err := env.Users.Update(ctxOf(t), u.ID(), func(_ context.Context, u *user.User) error {
			if err := u.UpdateProfile(user.ProfileEdit{Name: ptr("changed")}, at(time.Hour)); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, err, boom)
		err = env.Users.Update(ctxOf(t), u.ID(), func(_ context.Context, u *user.User) error {
			return u.Delete("wrong password", at(time.Hour))
		})
		wantErr(t, err, user.ErrWrongPassword)
		wantUser(t, env, u.Snapshot())
		wantEvents(t, env, u.ID(), identity.NameUserRegistered)
	})

	t.Run("a deleted user is removed and its e-mail freed", func(t *testing.T) {
		t.Parallel()
		u := addUser(t, env, "leaving")
		must(t, env.Users.Update(ctxOf(t), u.ID(), func(_ context.Context, u *user.User) error {
			return u.Delete(testPassword, at(time.Hour))
		}))
		_, err := env.Users.ByID(ctxOf(t), u.ID())
		wantErr(t, err, user.ErrNotFound)
		_, err = env.Users.ByEmail(ctxOf(t), u.Email())
		wantErr(t, err, user.ErrNotFound)
		wantEvents(t, env, u.ID(), identity.NameUserRegistered, identity.NameUserDeleted)
		again := newUserWith(t, newID(), "returning", u.Email().String())
		must(t, env.Users.Add(ctxOf(t), again))
	})
}

// RefreshTokenStore is the contract of user.RefreshTokenStore (with the
// users read model's PrincipalByRefreshToken).
func RefreshTokenStore(t *testing.T, newEnv func(testing.TB) Env) {
	env := newEnv(t)
	now := at(0)
	ttl := 24 * time.Hour
	start := func(t *testing.T) (userID, hash string) {
		u := addUser(t, env, "session")
		hash = "h-" + newID()
		must(t, env.Tokens.Save(ctxOf(t), user.RefreshToken{Hash: hash, UserID: u.ID(), FamilyID: hash, ExpiresAt: now.Add(ttl), CreatedAt: now}))
		return u.ID(), hash
	}
	next := func() user.RefreshToken {
		return user.RefreshToken{Hash: "h-" + newID(), ExpiresAt: now.Add(2 * ttl), CreatedAt: now.Add(time.Hour)}
	}
	live := func(t *testing.T, hash, userID string) {
		t.Helper()
		p, err := env.UserQueries.PrincipalByRefreshToken(ctxOf(t), hash, now.Add(time.Hour))
		must(t, err)
		equal(t, "principal", p.UserID, userID)
	}
	dead := func(t *testing.T, hash string) {
		t.Helper()
		_, err := env.UserQueries.PrincipalByRefreshToken(ctxOf(t), hash, now.Add(time.Hour))
		wantErr(t, err, user.ErrRefreshTokenInvalid)
	}

	t.Run("rotation spends the token and continues the family", func(t *testing.T) {
		t.Parallel()
		uid, h1 := start(t)
		live(t, h1, uid)
		n1 := next()
		got, err := env.Tokens.Rotate(ctxOf(t), h1, n1, now.Add(time.Hour))
		must(t, err)
		equal(t, "user id", got, uid)
		live(t, n1.Hash, uid)
		n2 := next()
		got, err = env.Tokens.Rotate(ctxOf(t), n1.Hash, n2, now.Add(2*time.Hour))
		must(t, err)
		equal(t, "user id", got, uid)
		// Revoking any token of the family revokes all of it.
		must(t, env.Tokens.Revoke(ctxOf(t), h1))
		dead(t, n2.Hash)
		_, err = env.Tokens.Rotate(ctxOf(t), n2.Hash, next(), now.Add(3*time.Hour))
		wantErr(t, err, user.ErrRefreshTokenInvalid)
	})

	t.Run("reusing a spent token revokes the family, durably", func(t *testing.T) {
		t.Parallel()
		uid, h1 := start(t)
		n1 := next()
		_, err := env.Tokens.Rotate(ctxOf(t), h1, n1, now.Add(time.Hour))
		must(t, err)
		_, err = env.Tokens.Rotate(ctxOf(t), h1, next(), now.Add(2*time.Hour)) // the thief, or a replay
		wantErr(t, err, user.ErrRefreshTokenInvalid)
		dead(t, n1.Hash)
		_, err = env.Tokens.Rotate(ctxOf(t), n1.Hash, next(), now.Add(2*time.Hour))
		wantErr(t, err, user.ErrRefreshTokenInvalid)
		// Another sign-in of the same user is untouched.
		other := "h-" + newID()
		must(t, env.Tokens.Save(ctxOf(t), user.RefreshToken{Hash: other, UserID: uid, FamilyID: other, ExpiresAt: now.Add(ttl), CreatedAt: now}))
		live(t, other, uid)
	})

	t.Run("unknown and expired tokens are invalid", func(t *testing.T) {
		t.Parallel()
		_, err := env.Tokens.Rotate(ctxOf(t), "h-"+newID(), next(), now)
		wantErr(t, err, user.ErrRefreshTokenInvalid)
		dead(t, "h-"+newID())
		uid, h1 := start(t)
		_, err = env.Tokens.Rotate(ctxOf(t), h1, next(), now.Add(ttl)) // expires_at is not live
		wantErr(t, err, user.ErrRefreshTokenInvalid)
		_, err = env.UserQueries.PrincipalByRefreshToken(ctxOf(t), h1, now.Add(ttl))
		wantErr(t, err, user.ErrRefreshTokenInvalid)
		// Expiry is not theft: the token still works before its end.
		got, err := env.Tokens.Rotate(ctxOf(t), h1, next(), now.Add(ttl-time.Microsecond))
		must(t, err)
		equal(t, "user id", got, uid)
	})

	t.Run("concurrent rotations of one token: one wins, then the replay revokes it all", func(t *testing.T) {
		t.Parallel()
		const n = 10
		_, h1 := start(t)
		nexts := make([]user.RefreshToken, n)
		for i := range nexts {
			nexts[i] = next()
		}
		results := parallel(n, func(i int) error {
			_, err := env.Tokens.Rotate(ctxOf(t), h1, nexts[i], now.Add(time.Hour))
			return err
		})
		wins := 0
		for i, err := range results {
			if err == nil {
				wins++
				dead(t, nexts[i].Hash)
			} else {
				wantErr(t, err, user.ErrRefreshTokenInvalid)
			}
		}
		equal(t, "winners", wins, 1)
	})

	t.Run("revoking a user ends every session of theirs only", func(t *testing.T) {
		t.Parallel()
		uid, h1 := start(t)
		h2 := "h-" + newID()
		must(t, env.Tokens.Save(ctxOf(t), user.RefreshToken{Hash: h2, UserID: uid, FamilyID: h2, ExpiresAt: now.Add(ttl), CreatedAt: now}))
		otherUID, other := start(t)
		must(t, env.Tokens.RevokeUser(ctxOf(t), uid))
		dead(t, h1)
		dead(t, h2)
		live(t, other, otherUID)
		must(t, env.Tokens.Revoke(ctxOf(t), "h-"+newID())) // unknown: nothing to do
	})
}

// UsersReadModel is the contract of the identity read model.
func UsersReadModel(t *testing.T, newEnv func(testing.TB) Env) {
	env := newEnv(t)
	marker := "zq" + strings.ReplaceAll(newID()[:8], "-", "")

	t.Run("lookups", func(t *testing.T) {
		t.Parallel()
		u := addUser(t, env, "lookup")
		want := u.DTO()
		got, err := env.UserQueries.UserByID(ctxOf(t), u.ID())
		must(t, err)
		sameTime(t, "created_at", &got.CreatedAt, &want.CreatedAt)
		got.CreatedAt = want.CreatedAt
		equal(t, "user", got, want)
		got, err = env.UserQueries.UserByEmail(ctxOf(t), strings.ToUpper(u.Email().String()))
		must(t, err)
		equal(t, "by e-mail", got.ID, u.ID())
		p, err := env.UserQueries.PrincipalByID(ctxOf(t), u.ID())
		must(t, err)
		equal(t, "principal", p.Email, u.Email().String())
		equal(t, "role", p.Role, "member")
		equal(t, "token version", p.TokenVersion, int64(1))

		_, err = env.UserQueries.UserByID(ctxOf(t), newID())
		wantErr(t, err, user.ErrNotFound)
		_, err = env.UserQueries.UserByEmail(ctxOf(t), "nobody-"+newID()+"@example.com")
		wantErr(t, err, user.ErrNotFound)
		_, err = env.UserQueries.PrincipalByID(ctxOf(t), newID())
		wantErr(t, err, user.ErrNotFound)

		v := addUser(t, env, "second")
		many, err := env.UserQueries.UsersByIDs(ctxOf(t), []string{newID(), v.ID(), u.ID(), newID()})
		must(t, err)
		var found []string
		for _, x := range many {
			found = append(found, x.ID)
		}
		slices.Sort(found)
		wantIDs := []string{u.ID(), v.ID()}
		slices.Sort(wantIDs)
		equal(t, "users by ids", found, wantIDs)
		none, err := env.UserQueries.UsersByIDs(ctxOf(t), nil)
		must(t, err)
		equal(t, "users by no ids", len(none), 0)
	})

	t.Run("search by name or e-mail", func(t *testing.T) {
		t.Parallel()
		names := []string{"dave", "Alice", "carol", "Bob", "100% sure"}
		byName := map[string]string{}
		for _, n := range names {
			id := newID()
			u := newUserWith(t, id, marker+" "+n, marker+"."+strings.ReplaceAll(strings.ToLower(n), "% ", "-")+"@example.com")
			must(t, env.Users.Add(ctxOf(t), u))
			byName[n] = id
		}
		ids := func(us []identity.User) (out []string) {
			for _, u := range us {
				out = append(out, strings.TrimPrefix(u.Name, marker+" "))
			}
			return out
		}
		got, err := env.UserQueries.ListUsers(ctxOf(t), marker, 10)
		must(t, err)
		equal(t, "by name, any case", ids(got), []string{"100% sure", "Alice", "Bob", "carol", "dave"})
		got, err = env.UserQueries.ListUsers(ctxOf(t), strings.ToUpper(marker)+" A", 10)
		must(t, err)
		equal(t, "upper-case query", ids(got), []string{"Alice"})
		got, err = env.UserQueries.ListUsers(ctxOf(t), marker, 2)
		must(t, err)
		equal(t, "limited", ids(got), []string{"100% sure", "Alice"})
		got, err = env.UserQueries.ListUsers(ctxOf(t), marker+".carol@", 10)
		must(t, err)
		equal(t, "by e-mail", ids(got), []string{"carol"})
		got, err = env.UserQueries.ListUsers(ctxOf(t), marker+" 100%", 10)
		must(t, err)
		equal(t, "literal %", ids(got), []string{"100% sure"})
		got, err = env.UserQueries.ListUsers(ctxOf(t), marker+"_", 10)
		must(t, err)
		equal(t, "literal _", len(got), 0)
	})
}

// AccountDeletion is the contract of the account-deletion transaction:
// identity and tasks write in one transaction the Transactor opens.
func AccountDeletion(t *testing.T, newEnv func(testing.TB) Env) {
	env := newEnv(t)
	setup := func(t *testing.T) (*user.User, []*task.Task, string) {
		u := addUser(t, env, "deleting")
		hash := "h-" + newID()
		must(t, env.Tokens.Save(ctxOf(t), user.RefreshToken{Hash: hash, UserID: u.ID(), FamilyID: hash, ExpiresAt: at(24 * time.Hour), CreatedAt: at(0)}))
		other := newID()
		tasks := []*task.Task{
			addTask(t, env, task.NewTaskParams{PICID: u.ID(), SupervisorID: other}, at(0)),
			addTask(t, env, task.NewTaskParams{PICID: other, SupervisorID: u.ID()}, at(0)),
			addTask(t, env, task.NewTaskParams{CreatorID: u.ID()}, at(0)),
		}
		return u, tasks, hash
	}
	deleteAccount := func(ctx context.Context, u *user.User, fail error) error {
		return env.Tx.WithinTransaction(ctx, func(ctx context.Context) error {
			if err := env.Users.Update(ctx, u.ID(), func(_ context.Context, u *user.User) error {
				return u.Delete(testPassword, at(time.Hour))
			}); err != nil {
				return err
			}
			if err := env.Tokens.RevokeUser(ctx, u.ID()); err != nil {
				return err
			}
			if err := env.Tasks.UpdateInvolving(ctx, u.ID(), func(_ context.Context, tk *task.Task) error {
				return tk.ReleaseUser(u.ID(), at(time.Hour))
			}); err != nil {
				return err
			}
			return fail
		})
	}

	t.Run("an error at the end rolls everything back", func(t *testing.T) {
		t.Parallel()
		u, tasks, hash := setup(t)
		boom := errors.New("boom")
		wantErr(t, deleteAccount(ctxOf(t), u, boom), boom)
		wantUser(t, env, u.Snapshot())
		wantEvents(t, env, u.ID(), identity.NameUserRegistered)
		p, err := env.UserQueries.PrincipalByRefreshToken(ctxOf(t), hash, at(time.Hour))
		must(t, err)
		equal(t, "session owner", p.UserID, u.ID())
		for _, tk := range tasks {
			wantTask(t, env, tk.Snapshot())
			wantEvents(t, env, tk.ID(), created)
		}
	})

	t.Run("without error the user is gone and the tasks released", func(t *testing.T) {
		t.Parallel()
		u, tasks, hash := setup(t)
		must(t, deleteAccount(ctxOf(t), u, nil))
		_, err := env.Users.ByID(ctxOf(t), u.ID())
		wantErr(t, err, user.ErrNotFound)
		wantEvents(t, env, u.ID(), identity.NameUserRegistered, identity.NameUserDeleted)
		_, err = env.UserQueries.PrincipalByRefreshToken(ctxOf(t), hash, at(time.Hour))
		wantErr(t, err, user.ErrRefreshTokenInvalid)
		for _, tk := range tasks[:2] {
			got, err := env.TaskQueries.TaskByID(ctxOf(t), tk.ID())
			must(t, err)
			if got.PICID == u.ID() || got.SupervisorID == u.ID() {
				t.Fatalf("task %s still involves the deleted user", tk.ID())
			}
			evs := wantEvents(t, env, tk.ID(), created, assigned)
			equal(t, "actor", decode(t, evs[1]).ActorID, u.ID())
		}
		// A task the user only created keeps its creator.
		got, err := env.TaskQueries.TaskByID(ctxOf(t), tasks[2].ID())
		must(t, err)
		equal(t, "creator", got.CreatorID, u.ID())
		wantEvents(t, env, tasks[2].ID(), created)
	})
}

// IdempotencyStore is the contract of the Idempotency-Key store.
func IdempotencyStore(t *testing.T, newEnv func(testing.TB) Env) {
	env := newEnv(t)
	s := func() IdempotencyKeyStore { return env.Idempotency }

	t.Run("save then look up; the first writer wins", func(t *testing.T) {
		t.Parallel()
		uid, key := newID(), "key-"+newID()
		_, _, _, found, err := s().Lookup(ctxOf(t), uid, key, at(-time.Hour))
		must(t, err)
		equal(t, "found before save", found, false)
		body := []byte{0, 1, 2, 0xff, '{', '}'}
		must(t, s().Save(ctxOf(t), uid, key, "hash-1", 201, body, at(0)))
		must(t, s().Save(ctxOf(t), uid, key, "hash-2", 500, []byte("late"), at(time.Minute)))
		h, status, got, found, err := s().Lookup(ctxOf(t), uid, key, at(-time.Hour))
		must(t, err)
		equal(t, "found", found, true)
		equal(t, "hash", h, "hash-1")
		equal(t, "status", status, 201)
		equal(t, "body", got, body)
		// Scoped to the user.
		_, _, _, found, err = s().Lookup(ctxOf(t), newID(), key, at(-time.Hour))
		must(t, err)
		equal(t, "found for another user", found, false)
		// Not before: a saved response older than notBefore is not returned.
		_, _, _, found, err = s().Lookup(ctxOf(t), uid, key, at(time.Microsecond))
		must(t, err)
		equal(t, "found when too old", found, false)
		_, _, _, found, err = s().Lookup(ctxOf(t), uid, key, at(0))
		must(t, err)
		equal(t, "found at its time", found, true)
	})

	t.Run("keys up to 255 characters", func(t *testing.T) {
		t.Parallel()
		uid := newID()
		long := strings.Repeat("키", 255)
		must(t, s().Save(ctxOf(t), uid, long, "h", 200, nil, at(0)))
		_, _, _, found, err := s().Lookup(ctxOf(t), uid, long, at(0))
		must(t, err)
		equal(t, "found", found, true)
		wantCode(t, s().Save(ctxOf(t), uid, long+"x", "h", 200, nil, at(0)), "idempotency_key_too_long")
		_, _, _, found, err = s().Lookup(ctxOf(t), uid, long+"x", at(0))
		must(t, err)
		equal(t, "found too long", found, false)
	})

	t.Run("empty bodies", func(t *testing.T) {
		t.Parallel()
		uid := newID()
		must(t, s().Save(ctxOf(t), uid, "nil", "h", 204, nil, at(0)))
		must(t, s().Save(ctxOf(t), uid, "empty", "h", 204, []byte{}, at(0)))
		for _, k := range []string{"nil", "empty"} {
			_, status, body, found, err := s().Lookup(ctxOf(t), uid, k, at(0))
			must(t, err)
			equal(t, "found", found, true)
			equal(t, "status", status, 204)
			equal(t, "body length", len(body), 0)
		}
	})

	t.Run("concurrent saves of one key: one is kept", func(t *testing.T) {
		t.Parallel()
		uid, key := newID(), "race"
		for i, err := range parallel(20, func(i int) error {
			return s().Save(ctxOf(t), uid, key, fmt.Sprint("hash-", i), 200+i, []byte(fmt.Sprint("body-", i)), at(0))
		}) {
			if err != nil {
				t.Fatalf("save %d: %v", i, err)
			}
		}
		h, status, body, found, err := s().Lookup(ctxOf(t), uid, key, at(0))
		must(t, err)
		equal(t, "found", found, true)
		i := status - 200
		equal(t, "hash", h, fmt.Sprint("hash-", i))
		equal(t, "body", string(body), fmt.Sprint("body-", i))
	})

	t.Run("purge removes what is older", func(t *testing.T) {
		t.Parallel()
		// Times of this test only (year 2001), so other tests' rows are safe.
		old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		uid := newID()
		for i := range 3 {
			must(t, s().Save(ctxOf(t), uid, fmt.Sprint("old-", i), "h", 200, nil, old.Add(time.Duration(i)*time.Hour)))
		}
		n, err := s().Purge(ctxOf(t), old.Add(2*time.Hour))
		must(t, err)
		equal(t, "purged", n, int64(2))
		_, _, _, found, err := s().Lookup(ctxOf(t), uid, "old-2", old)
		must(t, err)
		equal(t, "kept", found, true)
		_, _, _, found, err = s().Lookup(ctxOf(t), uid, "old-0", old)
		must(t, err)
		equal(t, "purged found", found, false)
	})
}
